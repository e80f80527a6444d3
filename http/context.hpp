#pragma once
/// http-internal: the per-request context that route handlers work with.

#include "actors/deadline.hpp"
#include "actors/json_limits.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/reply_json.hpp"
#include "http/api.hpp"
#include "http/auth.hpp"
#include "http/error_mapping.hpp"
#include "http/validation.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pixelcraft::http {

/// Work for a requester actor: issue one request and continue in its `.then` (local only).
using ask_job = std::function<void(caf::event_based_actor*)>;

} // namespace pixelcraft::http

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pixelcraft::http::ask_job)

namespace pixelcraft::http {

using json = nlohmann::json;

/// Who may call a route. `ops` routes ignore tokens entirely (API.md §3).
enum class access { ops, anyone, user, admin };

struct request_ctx;
using ctx_ptr = std::shared_ptr<request_ctx>;
using handler_fn = std::function<void(const ctx_ptr&)>;

struct request_ctx {
  http_request req;
  std::string correlation_id;
  std::string route; ///< matched pattern
  std::map<std::string, std::string> params;
  std::vector<std::pair<std::string, std::string>> query;
  principal who;
  const api_options* opts = nullptr;
  api::impl* owner = nullptr;
  response_sink_ptr sink;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<bool> replied{false};
  std::vector<std::pair<std::string, std::string>> headers; ///< extra response headers
  caf::actor asker;       ///< the long-lived requester actor this request's asks go through
  std::string idem_scope; ///< set when this request claimed an Idempotency-Key
  std::string idem_key;
  /// The body read as JSON, at most once per request (`json_body`); routes that take no body
  /// never read it, so a body sent to them is ignored.
  std::optional<body_check> parsed_body;

  /// Sends the response (first call wins); adds correlation id, CORS, logs and metrics.
  void send(int status, std::string body,
            std::string content_type = "application/json; charset=utf-8");
  /// Never throws: a client's invalid UTF-8 echoed in a body (a query name) becomes U+FFFD.
  void send_json(int status, const json& j) { send(status, safe_dump(j)); }
  /// Starts a 200 streamed response (instead of `send`), with the same common headers.
  /// `on_gone` runs on an I/O thread when the client has left.
  stream_sink_ptr open_stream(const std::string& content_type, std::function<void()> on_gone);
  /// Answers 101 and upgrades to a WebSocket (logged and counted as 101); false if the
  /// request is not a WebSocket upgrade (nothing was sent then).
  bool upgrade(ws_callbacks callbacks);
  /// `{"detail": "<text>"}`.
  void error(int status, const std::string& detail);
  /// 422 with `{"detail": [...]}`.
  void invalid(const json& detail_list);
  /// Maps an actor error (error_mapping.hpp).
  void fail(const caf::error& err);

  /// First value of a query parameter; nullptr when absent.
  const std::string* query_value(std::string_view name) const {
    for (const auto& [k, v] : query)
      if (k == name)
        return &v;
    return nullptr;
  }

  /// First value of a query parameter; empty when absent (filters: empty means "any").
  std::string query_text(std::string_view name) const {
    auto* x = query_value(name);
    return x ? *x : std::string{};
  }

  /// Deadline for a database request (statement timeout + connect + margin).
  std::chrono::milliseconds db_timeout() const {
    return deadlines::db(opts->settings.db_timeout_ms);
  }
  /// Deadline for a write that goes through the pool's commit lanes (a lead submit, opening a
  /// conversation): it may wait for the batch ahead of it. A shorter wait could answer an
  /// error for a write that then commits, and a client's retry would store it twice.
  std::chrono::milliseconds lane_timeout() const {
    return std::min(deadlines::db_lane(opts->settings.db_timeout_ms), time_left());
  }
  /// What is left of this request's own deadline (`REQUEST_TIMEOUT_S`): the timeout of an ask
  /// that answers the request; work it asks for gets `deadlines::inner` of it as its budget.
  std::chrono::milliseconds time_left() const {
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return std::max(std::chrono::milliseconds(1),
                    deadlines::http_request(opts->settings.request_timeout_s) - spent);
  }
};

/// Runs `fn`, turning an escaped exception into a logged 500 (never a crash, never details).
void guarded(const ctx_ptr& ctx, const std::function<void()>& fn);

/// Asks `dest` (a typed actor replying `Reply`, by default `std::string`) through the request's
/// requester actor (one of a pool that lives as long as the api: no actor is spawned per ask)
/// and continues with `on_ok` on a CAF thread; errors and timeouts go to `ctx->fail`.
template <class T> struct non_deduced { using type = T; };

template <class Reply = std::string, class Handle, class... Ts>
void ask(const ctx_ptr& ctx, Handle dest, std::chrono::milliseconds timeout,
         typename non_deduced<std::function<void(Reply&)>>::type on_ok, Ts... xs) {
  caf::anon_send(ctx->asker, ask_job{[=](caf::event_based_actor* self) {
                   self->request(dest, timeout, xs...)
                       .then([ctx, on_ok](Reply& reply) { guarded(ctx, [&] { on_ok(reply); }); },
                             [ctx](caf::error& err) { ctx->fail(err); });
                 }});
}

/// Same, but the error goes to `on_err` instead of `ctx->fail`.
template <class Reply = std::string, class Handle, class... Ts>
void ask_or(const ctx_ptr& ctx, Handle dest, std::chrono::milliseconds timeout,
            typename non_deduced<std::function<void(Reply&)>>::type on_ok,
            std::function<void(caf::error&)> on_err, Ts... xs) {
  caf::anon_send(ctx->asker, ask_job{[=](caf::event_based_actor* self) {
                   self->request(dest, timeout, xs...)
                       .then(
                           [ctx, on_ok](Reply& reply) { guarded(ctx, [&] { on_ok(reply); }); },
                           [ctx, on_err](caf::error& err) { guarded(ctx, [&] { on_err(err); }); });
                 }});
}

/// The request body checked and parsed once (`check_json_body`, API.md §1 v1.1) and kept in
/// `ctx->parsed_body`; later calls return the same result without parsing again.
const body_check& json_body(const ctx_ptr& ctx);

/// The body as a JSON object (owned by `ctx`, valid as long as it), or nullptr after answering
/// 400 (not JSON, invalid UTF-8, nested deeper than 32, not an object) or 422 (no body, or a
/// string holding `\u0000`).
const json* parse_json_object(const ctx_ptr& ctx);

/// The caller as the conversation store judges access (API.md §4).
inline conversation_access conversation_caller(const ctx_ptr& ctx,
                                               std::string conversation_id = {}) {
  return {std::move(conversation_id), ctx->who.sub, ctx->who.who == role::admin};
}

/// Who a turn acts for, for the tools' policy and budgets (API.md §12): a signed-in caller's
/// `sub` as `owner_id` (they see the approvals it raises), an anonymous caller's address as
/// `client` (its hourly budget).
inline void stamp_caller(const ctx_ptr& ctx, agent_turn& turn) {
  if (ctx->who.who == role::anonymous || ctx->who.sub.empty())
    turn.client = ctx->req.remote_ip.empty() ? std::string{"unknown"} : ctx->req.remote_ip;
  else
    turn.owner_id = ctx->who.sub;
}

/// JSON text of a value the server made (a turn's context or schema, for the model).
inline std::string json_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// An agent's reply metadata as the API shows it (API.md §4, §5): `metadata`, plus the tools
/// the agent called this turn (when any) as `tools_used`.
inline json reply_metadata(const agent_reply& r) {
  auto meta = to_json(r.meta);
  if (!r.tools_used.empty())
    meta["tools_used"] = r.tools_used;
  return meta;
}

/// A reply's conversation id, `null` when it has none.
inline json reply_conversation(const agent_reply& r) {
  return r.conversation_id.empty() ? json(nullptr) : json(r.conversation_id);
}

/// Registers a route. Called by the `register_*_routes` functions. `idempotent` routes create
/// something: they honour `Idempotency-Key` (API.md §1) generically: the key is claimed before
/// the handler runs, a 2xx response is recorded for replay, any other outcome releases the key.
void add_route(api::impl& a, std::string method, std::string pattern, access who, handler_fn fn,
               bool idempotent = false);

/// `health_only`: `/health*` and `/metrics` only (a worker's own listener).
void register_ops_routes(api::impl& a, const http_settings& settings, bool health_only);
void register_lead_routes(api::impl& a);
void register_approval_routes(api::impl& a);
void register_chat_routes(api::impl& a);
void register_agent_routes(api::impl& a);
void register_workflow_routes(api::impl& a);

/// The OpenAPI document served at `/openapi.json` (compact JSON).
const std::string& openapi_document();

/// Prometheus text for `/metrics`.
std::string render_metrics(api::impl& a);

} // namespace pixelcraft::http
