// Health and operations (API.md §3). These routes ignore tokens.
#include "http/context.hpp"
#include "http/metrics.hpp"
#include "http/pages.hpp"

#include <memory>

namespace pixelcraft::http {

namespace {

/// Per-model counters from the model client's stats (Prometheus text).
std::string render_model_metrics(const std::string& stats_text) {
  auto stats = parse_json(stats_text);
  if (!stats.is_object() || !stats.contains("models"))
    return {};
  std::string out = "# HELP pixelcraft_llm_requests_total Model calls by model.\n"
                    "# TYPE pixelcraft_llm_requests_total counter\n";
  std::string ok = "# HELP pixelcraft_llm_success_ratio Share of model calls that succeeded.\n"
                   "# TYPE pixelcraft_llm_success_ratio gauge\n";
  std::string lat = "# HELP pixelcraft_llm_latency_ms_avg Mean latency of successful calls.\n"
                    "# TYPE pixelcraft_llm_latency_ms_avg gauge\n";
  std::string tokens = "# HELP pixelcraft_llm_tokens_total Tokens by model and direction.\n"
                       "# TYPE pixelcraft_llm_tokens_total counter\n";
  for (const auto& m : stats["models"]) {
    auto l = "model=\"" + prometheus_label(m.value("name", std::string{})) + "\"";
    const auto& x = m["metrics"];
    out += "pixelcraft_llm_requests_total{" + l + "} " + x["total_requests"].dump() + "\n";
    ok += "pixelcraft_llm_success_ratio{" + l + "} " + x["success_rate"].dump() + "\n";
    lat += "pixelcraft_llm_latency_ms_avg{" + l + "} " + x["avg_latency_ms"].dump() + "\n";
    tokens += "pixelcraft_llm_tokens_total{" + l + ",direction=\"in\"} " + x["tokens_in"].dump() +
              "\n" + "pixelcraft_llm_tokens_total{" + l + ",direction=\"out\"} " +
              x["tokens_out"].dump() + "\n";
  }
  return out + ok + lat + tokens;
}

/// Our own pages run only our own scripts; the fallback `/docs` and `/chat` still carry theirs
/// inline. Data is reached with fetch and the monitor's WebSocket on this same origin.
constexpr const char* csp_strict =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";
constexpr const char* csp_inline =
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

void send_page(const ctx_ptr& ctx, const page_store& pages, const std::string& name,
               const char* csp) {
  auto file = pages.page(name);
  if (!file)
    return ctx->error(404, "not found");
  ctx->headers.emplace_back("Content-Security-Policy", csp);
  ctx->send(200, std::move(file->body), std::move(file->content_type));
}

/// `/`, `/console`, `/chat`, `/docs` and `/static/{file}` (API.md §15).
void register_page_routes(api::impl& a, const http_settings& settings) {
  auto pages = std::make_shared<const page_store>(settings.web_dir, settings.assets_dir);
  bool dev = !settings.assets_dir.empty();
  add_route(a, "GET", "/", access::ops,
            [pages](const ctx_ptr& ctx) { send_page(ctx, *pages, "index.html", csp_strict); });
  add_route(a, "GET", "/console", access::ops,
            [pages](const ctx_ptr& ctx) { send_page(ctx, *pages, "console.html", csp_strict); });
  add_route(a, "GET", "/chat", access::ops,
            [pages](const ctx_ptr& ctx) { send_page(ctx, *pages, "chat.html", csp_inline); });
  add_route(a, "GET", "/docs", access::ops, [pages](const ctx_ptr& ctx) {
    if (pages->has_swagger_ui())
      return send_page(ctx, *pages, "docs-ui.html", csp_strict);
    send_page(ctx, *pages, "docs.html", csp_inline);
  });
  add_route(a, "GET", "/static/{file}", access::ops, [pages, dev](const ctx_ptr& ctx) {
    auto file = pages->static_file(ctx->params["file"]);
    if (!file)
      return ctx->error(404, "not found");
    // A new release changes these files: a short cache keeps a console current within minutes.
    ctx->headers.emplace_back("Cache-Control", dev ? "no-store" : "public, max-age=300");
    ctx->send(200, std::move(file->body), std::move(file->content_type));
  });
}

constexpr auto health_timeout = std::chrono::milliseconds(5000);

void health(const ctx_ptr& ctx) {
  ask_or(
      ctx, ctx->opts->health, health_timeout,
      [ctx](std::string& body) {
        if (!ctx->opts->cluster)
          return ctx->send(200, std::move(body));
        // This node and its peers (API.md §14) come from the cluster actor.
        ask_or(
            ctx, ctx->opts->cluster, std::chrono::milliseconds(1000),
            [ctx, body](std::string& node) {
              auto doc = parse_json_or_throw(body); // our own actors' texts
              doc["node"] = parse_json_or_throw(node);
              ctx->send_json(200, doc);
            },
            [ctx, body](caf::error&) { ctx->send(200, body); }, peers_atom_v);
      },
      [ctx](caf::error&) {
        // The health actor itself did not answer: report that honestly, still as a 200 body.
        ctx->send_json(200, {{"status", "unhealthy"},
                             {"timestamp", log::now_rfc3339()},
                             {"version", ctx->opts->version},
                             {"error", "health check did not complete"}});
      },
      health_atom_v);
}

void ready(const ctx_ptr& ctx) {
  ask_or<readiness>(
      ctx, ctx->opts->health, health_timeout,
      [ctx](readiness& r) {
        if (r.ready)
          return ctx->send_json(200, {{"status", "ready"}});
        ctx->send_json(503, {{"status", "not_ready"}, {"reasons", r.reasons}});
      },
      [ctx](caf::error&) {
        ctx->send_json(503,
                       {{"status", "not_ready"}, {"reasons", {"health check did not complete"}}});
      },
      ready_atom_v);
}

} // namespace

void register_ops_routes(api::impl& a, const http_settings& settings, bool health_only) {
  add_route(a, "GET", "/health", access::ops, health);
  add_route(a, "GET", "/health/live", access::ops, [](const ctx_ptr& ctx) {
    ctx->send_json(200, {{"status", "alive"}});
  });
  add_route(a, "GET", "/health/ready", access::ops, ready);
  add_route(a, "GET", "/metrics", access::ops, [](const ctx_ptr& ctx) {
    auto base = render_metrics(*ctx->owner);
    auto send = [ctx](std::string text) {
      ctx->send(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
    };
    if (!ctx->opts->llm)
      return send(std::move(base));
    ask_or(
        ctx, ctx->opts->llm, std::chrono::milliseconds(2000),
        [send, base](std::string& stats) { send(base + render_model_metrics(stats)); },
        [send, base](caf::error&) { send(base); }, llm_stats_atom_v);
  });
  if (health_only)
    return;
  add_route(a, "GET", "/openapi.json", access::ops,
            [](const ctx_ptr& ctx) { ctx->send(200, openapi_document()); });
  register_page_routes(a, settings);
}

} // namespace pixelcraft::http
