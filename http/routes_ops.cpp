// Health and operations (API.md §3). These routes ignore tokens.
#include "http/context.hpp"

namespace pixelcraft::http {

namespace {

constexpr auto health_timeout = std::chrono::milliseconds(5000);

void health(const ctx_ptr& ctx) {
  ask_or(
    ctx, ctx->opts->health, health_timeout,
    [ctx](std::string& body) { ctx->send(200, std::move(body)); },
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
  ask_or(
    ctx, ctx->opts->health, health_timeout,
    [ctx](std::string& text) {
      auto r = json::parse(text);
      if (r.value("ready", false))
        return ctx->send_json(200, {{"status", "ready"}});
      ctx->send_json(503, {{"status", "not_ready"}, {"reasons", r["reasons"]}});
    },
    [ctx](caf::error&) {
      ctx->send_json(503, {{"status", "not_ready"},
                           {"reasons", {"health check did not complete"}}});
    },
    ready_atom_v);
}

} // namespace

void register_ops_routes(api::impl& a) {
  add_route(a, "GET", "/health", access::ops, health);
  add_route(a, "GET", "/health/live", access::ops,
            [](const ctx_ptr& ctx) { ctx->send_json(200, {{"status", "alive"}}); });
  add_route(a, "GET", "/health/ready", access::ops, ready);
  add_route(a, "GET", "/metrics", access::ops, [](const ctx_ptr& ctx) {
    ctx->send(200, render_metrics(*ctx->owner), "text/plain; version=0.0.4; charset=utf-8");
  });
  add_route(a, "GET", "/openapi.json", access::ops,
            [](const ctx_ptr& ctx) { ctx->send(200, openapi_document()); });
  add_route(a, "GET", "/docs", access::ops, [](const ctx_ptr& ctx) {
    ctx->headers.emplace_back("Content-Security-Policy",
                              "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                              "style-src 'self' 'unsafe-inline'; connect-src 'self'");
    ctx->send(200, docs_page(), "text/html; charset=utf-8");
  });
}

} // namespace pixelcraft::http
