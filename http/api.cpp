#include "http/api.hpp"

#include "actors/deadline.hpp"
#include "actors/ids.hpp"
#include "http/context.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/validation.hpp"

#include <algorithm>
#include <ctime>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace pixelcraft::http {

namespace {

constexpr const char* component = "pixelcraft.http";
constexpr size_t max_target_bytes = 8192;
constexpr size_t max_header_count = 100;

bool valid_correlation_id(const std::string& s) {
  if (s.empty() || s.size() > 128)
    return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

/// Printable ASCII only (0x20..0x7E): what we echo back in a response header.
bool header_safe(std::string_view s) {
  return s.size() <= 4096 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

std::string join(const std::vector<std::string>& xs, const char* sep) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i)
      out += sep;
    out += xs[i];
  }
  return out;
}

/// Token buckets per client IP for anonymous writes (API.md §1: 429 with Retry-After).
class rate_limiter {
public:
  rate_limiter(double per_minute, double burst) : rate_(per_minute / 60.0), burst_(burst) {}

  /// Returns 0 when allowed, else the seconds to wait.
  int take(const std::string& key) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> guard{mtx_};
    if (buckets_.size() > 100000)
      buckets_.clear(); // bounded memory under an address-spraying client
    auto [it, fresh] = buckets_.try_emplace(key, bucket{burst_, now});
    auto& b = it->second;
    if (!fresh) {
      double dt = std::chrono::duration<double>(now - b.at).count();
      b.tokens = std::min(burst_, b.tokens + dt * rate_);
      b.at = now;
    }
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return 0;
    }
    return std::max(1, static_cast<int>((1.0 - b.tokens) / rate_ + 0.999));
  }

private:
  struct bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  double rate_;
  double burst_;
  std::mutex mtx_;
  std::unordered_map<std::string, bucket> buckets_;
};

} // namespace

struct api::impl {
  explicit impl(api_options o)
      : opts(std::move(o)), verifier(opts.jwt_secret, opts.settings.jwt_audience),
        limiter(opts.settings.rate_limit_per_minute, opts.settings.rate_limit_burst) {
    // Requester actors: each runs the asks handed to it (`ask_job`) and their continuations.
    // A spawn per ask cost more than the cheap routes' own work.
    if (opts.sys)
      for (unsigned i = 0; i < std::max(4u, 2 * std::thread::hardware_concurrency()); ++i)
        askers.push_back(opts.sys->spawn([](caf::event_based_actor* self) -> caf::behavior {
          return {[self](ask_job& job) { job(self); }};
        }));
  }

  ~impl() { stop(); }

  void stop() {
    for (auto& a : askers)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    askers.clear();
  }

  std::vector<caf::actor> askers;
  std::atomic<size_t> next_asker{0};

  struct route_entry {
    access who;
    handler_fn fn;
    bool idempotent = false;
  };

  api_options opts;
  jwt_verifier verifier;
  rate_limiter limiter;
  router routes;
  std::vector<route_entry> handlers;
  metrics_registry metrics;

  void cors_headers(const request_ctx& ctx, std::vector<std::pair<std::string, std::string>>& h) {
    const auto& origins = opts.settings.cors_origins;
    auto* origin = ctx.req.header("origin");
    if (!origin || origins.empty() || !header_safe(*origin))
      return;
    bool any = std::find(origins.begin(), origins.end(), "*") != origins.end();
    if (!any && std::find(origins.begin(), origins.end(), *origin) == origins.end())
      return;
    h.emplace_back("Access-Control-Allow-Origin", *origin);
    h.emplace_back("Vary", "Origin");
    h.emplace_back("Access-Control-Expose-Headers", "X-Correlation-ID, Retry-After");
  }

  void complete(request_ctx& ctx, int status, std::string body, std::string content_type) {
    if (ctx.replied.exchange(true))
      return;
    http_response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(ctx.headers);
    if (!content_type.empty() && status != 204)
      r.headers.emplace_back("Content-Type", std::move(content_type));
    r.headers.emplace_back("X-Correlation-ID", ctx.correlation_id);
    if (std::none_of(r.headers.begin(), r.headers.end(),
                     [](const auto& h) { return h.first == "Cache-Control"; }))
      r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    cors_headers(ctx, r.headers);
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started);
    auto route = ctx.route.empty() ? std::string{"unmatched"} : ctx.route;
    if (!ctx.idem_key.empty())
      return finish_idempotent(ctx, std::move(r), route, secs.count());
    log_and_send(ctx, std::move(r), route, secs.count());
  }

  void log_and_send(request_ctx& ctx, http_response r, const std::string& route, double secs) {
    metrics.observe(ctx.req.method, route, r.status, secs);
    log::info(component, "request",
              {{"correlation_id", ctx.correlation_id},
               {"method", ctx.req.method},
               {"route", route},
               {"status", r.status},
               {"latency_ms", secs * 1000.0},
               {"remote", ctx.req.remote_ip}});
    ctx.sink->send(std::move(r));
  }

  /// Records a 2xx response under the claimed key before sending it (so a quick retry
  /// replays it); releases the key for anything else.
  void finish_idempotent(request_ctx& ctx, http_response r, const std::string& route, double secs) {
    auto db = opts.db;
    auto scope = ctx.idem_scope, key = ctx.idem_key;
    auto sink = ctx.sink;
    auto* self = this;
    auto copy = std::make_shared<request_ctx>();
    copy->req.method = ctx.req.method;
    copy->req.remote_ip = ctx.req.remote_ip;
    copy->correlation_id = ctx.correlation_id;
    copy->sink = ctx.sink;
    bool ok = r.status >= 200 && r.status < 300;
    auto shared = std::make_shared<http_response>(std::move(r));
    opts.sys->spawn([=](caf::event_based_actor* a) {
      auto deliver = [=] { self->log_and_send(*copy, std::move(*shared), route, secs); };
      auto t = deadlines::db(opts.settings.db_timeout_ms);
      if (ok)
        a->request(db, t, idem_end_atom_v, scope, key, static_cast<int32_t>(shared->status),
                   shared->body)
            .then([deliver](bool) { deliver(); }, [deliver](caf::error&) { deliver(); });
      else
        a->request(db, t, idem_drop_atom_v, scope, key)
            .then([deliver](bool) { deliver(); }, [deliver](caf::error&) { deliver(); });
    });
  }

  /// Claims the request's Idempotency-Key, then runs `fn`; answers replays and conflicts.
  /// The body is checked before the key is claimed (a 400/422 claims nothing), and its hash
  /// is taken from the one parsed document: the same JSON in another layout is the same request.
  void idempotent(const ctx_ptr& ctx, const handler_fn& fn) {
    auto* key = ctx->req.header("idempotency-key");
    if (!key)
      return fn(ctx);
    if (!valid_idempotency_key(*key))
      return ctx->invalid(
          json::array({{{"loc", {"header", "Idempotency-Key"}},
                        {"msg", "Idempotency-Key must have 1..255 visible ASCII characters"},
                        {"type", "value_error"}}}));
    if (!parse_json_object(ctx))
      return;
    auto scope = ctx->req.method + " " + ctx->route + ":" +
                 (ctx->who.sub.empty() ? std::string{"anonymous"} : ctx->who.sub);
    auto hash = sha256_hex(ctx->parsed_body->doc.dump());
    auto k = *key;
    ask<idempotency_claim>(
        ctx, opts.db, ctx->db_timeout(),
        [ctx, fn, scope, k](idempotency_claim& claim) {
          const auto& state = claim.state;
          if (state == "replay") {
            ctx->headers.emplace_back("Idempotent-Replayed", "true");
            return ctx->send(claim.status, std::move(claim.body));
          }
          if (state == "conflict")
            return ctx->error(409,
                              "Idempotency-Key was already used with a different request body");
          if (state == "in_progress")
            return ctx->error(409, "a request with this Idempotency-Key is still in progress");
          ctx->idem_scope = scope;
          ctx->idem_key = k;
          fn(ctx);
        },
        idem_begin_atom_v, scope, k, hash,
        static_cast<int32_t>(opts.settings.idempotency_ttl_hours));
  }

  stream_sink_ptr open_stream(request_ctx& ctx, const std::string& content_type,
                              std::function<void()> on_gone) {
    if (ctx.replied.exchange(true))
      return nullptr;
    http_response head;
    head.status = 200;
    head.headers = std::move(ctx.headers);
    head.headers.emplace_back("Content-Type", content_type);
    head.headers.emplace_back("X-Correlation-ID", ctx.correlation_id);
    head.headers.emplace_back("Cache-Control", "no-cache");
    head.headers.emplace_back("X-Accel-Buffering", "no");
    cors_headers(ctx, head.headers);
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started);
    metrics.observe(ctx.req.method, ctx.route, 200, secs.count());
    log::info(component, "stream opened",
              {{"correlation_id", ctx.correlation_id},
               {"method", ctx.req.method},
               {"route", ctx.route},
               {"status", 200},
               {"latency_ms", secs.count() * 1000.0}});
    return ctx.sink->open_stream(std::move(head), std::move(on_gone));
  }

  void handle(http_request req, response_sink_ptr sink) {
    auto ctx = std::make_shared<request_ctx>();
    ctx->opts = &opts;
    ctx->owner = this;
    if (!askers.empty())
      ctx->asker = askers[next_asker++ % askers.size()];
    ctx->sink = std::move(sink);
    ctx->req = std::move(req);
    auto* cid = ctx->req.header("x-correlation-id");
    ctx->correlation_id = cid && valid_correlation_id(*cid) ? *cid : random_uuid();
    guarded(ctx, [&] { dispatch(ctx); });
  }

  void dispatch(const ctx_ptr& ctx) {
    auto& req = ctx->req;
    // Our own limits, below RESTinio's hard caps, so clients get a status instead of a reset.
    if (req.target.size() > max_target_bytes)
      return ctx->error(414,
                        "request URI longer than " + std::to_string(max_target_bytes) + " bytes");
    size_t total = 0;
    for (const auto& [k, v] : req.headers) {
      total += k.size() + v.size() + 4;
      if (v.size() > opts.settings.max_header_bytes)
        return ctx->error(431, "header '" + k + "' is too large");
    }
    if (req.headers.size() > max_header_count || total > 4 * opts.settings.max_header_bytes)
      return ctx->error(431, "request headers are too large");
    if (req.body.size() > opts.settings.max_body_bytes)
      return ctx->error(413, "request body exceeds " +
                                 std::to_string(opts.settings.max_body_bytes) + " bytes");

    ctx->query = parse_query(req.query);
    if (req.method == "OPTIONS")
      return preflight(ctx);
    auto m = routes.match(req.method, req.path);
    if (m.kind == router::match_result::not_found)
      return ctx->error(404, "not found");
    ctx->route = m.pattern;
    if (m.kind == router::match_result::method_not_allowed) {
      ctx->headers.emplace_back("Allow", join(m.allowed, ", "));
      return ctx->error(405, "method " + req.method + " not allowed on " + m.pattern);
    }
    ctx->params = std::move(m.params);
    // A path parameter that is not storable text names nothing we could have stored.
    for (const auto& [name, value] : ctx->params)
      if (!storable_text(value))
        return ctx->error(404, "not found");
    const auto& entry = handlers[m.index];
    if (entry.who != access::ops && !authenticate(ctx))
      return;
    if ((entry.who == access::user || entry.who == access::admin) &&
        ctx->who.who == role::anonymous) {
      ctx->headers.emplace_back("WWW-Authenticate", "Bearer");
      return ctx->error(401, "authentication required");
    }
    if (entry.who == access::admin && ctx->who.who != role::admin)
      return ctx->error(403, "admin role required");
    validator query_errors;
    check_query_text(ctx->query, query_errors);
    if (!query_errors.ok())
      return ctx->invalid(query_errors.detail());
    if (ctx->who.who == role::anonymous && req.method != "GET" && req.method != "HEAD") {
      if (auto wait = limiter.take(req.remote_ip); wait > 0) {
        ctx->headers.emplace_back("Retry-After", std::to_string(wait));
        return ctx->error(429, "too many requests, retry later");
      }
    }
    if (entry.idempotent)
      return idempotent(ctx, entry.fn);
    entry.fn(ctx);
  }

  /// Resolves the bearer token. A bad token on an `/api/` route is a 401, never anonymous.
  bool authenticate(const ctx_ptr& ctx) {
    auto* auth = ctx->req.header("authorization");
    std::string from_query;
    if (!auth && ctx->route.rfind("/api/ws/", 0) == 0) {
      // Browsers cannot set headers on a WebSocket: the monitor takes ?token= too.
      if (auto* t = ctx->query_value("token")) {
        from_query = "Bearer " + *t;
        auth = &from_query;
      }
    }
    if (!auth)
      return true;
    auto refuse = [&](const std::string& why) {
      ctx->headers.emplace_back("WWW-Authenticate", "Bearer");
      ctx->error(401, why);
      return false;
    };
    // Two credentials: which one a proxy in front of us saw is anyone's guess, so neither.
    if (std::count_if(ctx->req.headers.begin(), ctx->req.headers.end(),
                      [](const auto& h) { return h.first == "authorization"; }) > 1)
      return refuse("more than one Authorization header");
    if (auth->size() < 7 || lower(auth->substr(0, 7)) != "bearer ")
      return refuse("authorization must be a Bearer token");
    // White space around the token is not part of it (RFC 9110 §5.5).
    auto token = trim(std::string_view{*auth}.substr(7));
    if (token.empty())
      return refuse("empty bearer token");
    auto res = verifier.verify(token, static_cast<int64_t>(std::time(nullptr)));
    if (!res.ok)
      return refuse("invalid token: " + res.error);
    ctx->who = res.who;
    return true;
  }

  void preflight(const ctx_ptr& ctx) {
    auto methods = routes.methods_for(ctx->req.path);
    if (methods.empty())
      return ctx->error(404, "not found");
    ctx->route = routes.match(methods.front(), ctx->req.path).pattern;
    methods.push_back("OPTIONS");
    ctx->headers.emplace_back("Allow", join(methods, ", "));
    if (ctx->req.header("origin")) {
      ctx->headers.emplace_back("Access-Control-Allow-Methods", join(methods, ", "));
      auto* asked = ctx->req.header("access-control-request-headers");
      if (asked && !header_safe(*asked))
        asked = nullptr;
      ctx->headers.emplace_back("Access-Control-Allow-Headers",
                                asked ? *asked
                                      : "Authorization, Content-Type, Idempotency-Key, "
                                        "X-Correlation-ID");
      ctx->headers.emplace_back("Access-Control-Max-Age", "600");
    }
    ctx->send(204, "", "");
  }
};

void request_ctx::send(int status, std::string body, std::string content_type) {
  owner->complete(*this, status, std::move(body), std::move(content_type));
}

bool request_ctx::upgrade(ws_callbacks callbacks) {
  if (replied.load())
    return false;
  if (!sink->upgrade_websocket(std::move(callbacks)))
    return false;
  replied = true;
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  owner->metrics.observe(req.method, route, 101, secs.count());
  log::info("pixelcraft.http", "websocket opened",
            {{"correlation_id", correlation_id}, {"route", route}, {"status", 101}});
  return true;
}

stream_sink_ptr request_ctx::open_stream(const std::string& content_type,
                                         std::function<void()> on_gone) {
  return owner->open_stream(*this, content_type, std::move(on_gone));
}

void request_ctx::error(int status, const std::string& detail) {
  send_json(status, json{{"detail", detail}});
}

void request_ctx::invalid(const json& detail_list) {
  send_json(422, json{{"detail", detail_list}});
}

void request_ctx::fail(const caf::error& err) {
  auto [status, detail] = map_error(err);
  if (status >= 500)
    log::warn("pixelcraft.http", "request failed",
              {{"correlation_id", correlation_id},
               {"route", route},
               {"status", status},
               {"error", caf::to_string(err)}});
  if (status == 503)
    headers.emplace_back("Retry-After", "5");
  error(status, detail);
}

void guarded(const ctx_ptr& ctx, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    log::error(
        "pixelcraft.http", "handler threw",
        {{"correlation_id", ctx->correlation_id}, {"route", ctx->route}, {"error", e.what()}});
    ctx->error(500, "internal server error");
  } catch (...) {
    log::error("pixelcraft.http", "handler threw",
               {{"correlation_id", ctx->correlation_id}, {"route", ctx->route}});
    ctx->error(500, "internal server error");
  }
}

const body_check& json_body(const ctx_ptr& ctx) {
  if (!ctx->parsed_body)
    ctx->parsed_body = check_json_body(ctx->req.body);
  return *ctx->parsed_body;
}

const json* parse_json_object(const ctx_ptr& ctx) {
  const auto& b = json_body(ctx);
  if (b.status == 400) {
    ctx->error(400, b.detail);
    return nullptr;
  }
  if (b.status != 0) {
    ctx->invalid(b.errors);
    return nullptr;
  }
  return &b.doc;
}

void add_route(api::impl& a, std::string method, std::string pattern, access who, handler_fn fn,
               bool idempotent) {
  a.routes.add(std::move(method), std::move(pattern));
  a.handlers.push_back({who, std::move(fn), idempotent});
}

std::string render_metrics(api::impl& a) {
  return a.metrics.render(a.opts.version);
}

api::api(api_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {
  register_ops_routes(*impl_, impl_->opts.settings, impl_->opts.health_only);
  if (impl_->opts.health_only)
    return; // a worker's own listener (API.md §14)
  register_lead_routes(*impl_);
  register_chat_routes(*impl_);
  register_agent_routes(*impl_);
  register_workflow_routes(*impl_);
  register_approval_routes(*impl_);
}

api::~api() = default;

void api::stop() {
  impl_->stop();
}

std::vector<std::pair<std::string, std::string>> api::routes() const {
  return impl_->routes.all();
}

const std::string& api::openapi() {
  return openapi_document();
}

void api::handle(http_request req, response_sink_ptr sink) {
  impl_->handle(std::move(req), std::move(sink));
}

} // namespace pixelcraft::http
