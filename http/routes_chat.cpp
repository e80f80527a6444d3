// Chat (API.md §4): message, streaming (SSE or NDJSON), history, delete.
#include "http/context.hpp"
#include "http/validation.hpp"

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

namespace pixelcraft::http {

namespace {

using clock_type = std::chrono::steady_clock;

/// The catalogue's agent ids, for the validators.
std::vector<std::string> agent_ids(const ctx_ptr& ctx) {
  std::vector<std::string> ids;
  for (const auto& a : ctx->opts->catalog->all())
    ids.push_back(a.id);
  return ids;
}

/// Validates a `ChatRequest` into the turn for the agent registry (without conversation yet).
bool parse_chat_request(const ctx_ptr& ctx, agent_turn& turn) {
  const json* body = parse_json_object(ctx);
  if (!body)
    return false;
  validator v;
  json t;
  if (!validate_chat_request(*body, agent_ids(ctx), v, t)) {
    ctx->invalid(v.detail());
    return false;
  }
  turn.agent_type = t.value("agent_type", std::string{"chat"});
  turn.conversation_id = t.value("conversation_id", std::string{});
  turn.message = t.value("message", std::string{});
  if (t.contains("context"))
    turn.context = json_text(t["context"]);
  turn.action = t.value("action", std::string{"chat"});
  return true;
}

/// Opens (or creates) the turn's conversation, then continues with the turn completed.
void with_conversation(const ctx_ptr& ctx, agent_turn turn, std::function<void(agent_turn)> next) {
  stamp_caller(ctx, turn);
  auto access = conversation_caller(ctx, turn.conversation_id);
  auto agent = turn.agent_type;
  ask<conversation_opened>(
      ctx, ctx->opts->db, ctx->lane_timeout(),
      [turn, next](conversation_opened& opened) mutable {
        turn.conversation_id = opened.conversation_id;
        turn.new_conversation = opened.created;
        next(std::move(turn));
      },
      conv_open_atom_v, std::move(access), std::move(agent));
}

/// The turn carries the budget its caller leaves it (deadline.hpp); the caller waits longer.
std::chrono::milliseconds turn_timeout(const ctx_ptr& ctx, agent_turn& turn) {
  auto left = ctx->time_left();
  turn.budget_ms = deadlines::inner(left).count();
  return left;
}

/// `ChatResponse` (API.md §4).
json chat_response(const agent_reply& r) {
  return {{"response", r.response},
          {"conversation_id", reply_conversation(r)},
          {"agent_type", r.agent_type},
          {"metadata", reply_metadata(r)},
          {"timestamp", r.timestamp}};
}

void message(const ctx_ptr& ctx) {
  agent_turn turn;
  if (!parse_chat_request(ctx, turn))
    return;
  with_conversation(ctx, std::move(turn), [ctx](agent_turn t) {
    auto timeout = turn_timeout(ctx, t);
    ask<agent_reply>(
        ctx, ctx->opts->agents, timeout,
        [ctx](agent_reply& reply) { ctx->send_json(200, chat_response(reply)); }, chat_atom_v,
        std::move(t), caf::actor{});
  });
}

// -- streaming ------------------------------------------------------------------------------

struct stream_state {
  ctx_ptr ctx;
  stream_sink_ptr sink;
  bool sse = true;
  uint64_t seq = 0;
  clock_type::time_point last_write = clock_type::now();
  static inline const char* name = "pixelcraft.chat-stream";

  void event(const char* name, const json& data) {
    last_write = clock_type::now();
    if (!sse) {
      sink->write(data.dump() + "\n");
      return;
    }
    sink->write(std::string{"event: "} + name + "\nid: " + std::to_string(++seq) +
                "\ndata: " + data.dump() + "\n\n");
  }
};

using stream_pointer = caf::stateful_actor<stream_state>*;

constexpr auto keepalive_after = std::chrono::seconds(10);

caf::behavior stream_fn(stream_pointer self, ctx_ptr ctx, agent_turn turn, bool sse) {
  auto& st = self->state;
  st.ctx = ctx;
  st.sse = sse;
  auto me = caf::actor_cast<caf::actor>(self);
  st.sink = ctx->open_stream(sse ? "text/event-stream; charset=utf-8" : "application/x-ndjson",
                             [me] { caf::anon_send(me, gone_atom_v); });
  if (!st.sink) {
    self->quit();
    return {};
  }
  // This actor is the listener: when it ends (client gone), the model call is cancelled.
  auto timeout = turn_timeout(ctx, turn);
  self->request(ctx->opts->agents, timeout, chat_atom_v, std::move(turn), me)
      .then(
          [self](const agent_reply& r) {
            self->state.event("done", {{"chunk", ""},
                                       {"done", true},
                                       {"conversation_id", reply_conversation(r)},
                                       {"metadata", reply_metadata(r)}});
            self->state.sink->close();
            self->quit();
          },
          [self](caf::error& err) {
            auto [status, detail] = map_error(err);
            log::warn("pixelcraft.http", "stream ended with an error",
                      {{"correlation_id", self->state.ctx->correlation_id},
                       {"status", status},
                       {"error", caf::to_string(err)}});
            self->state.event("error", {{"error", detail}, {"done", true}});
            self->state.sink->close();
            self->quit();
          });
  self->delayed_send(self, keepalive_after, tick_atom_v);
  return {
      [self](llm_chunk_atom, const std::string& piece) {
        self->state.event("chunk", {{"chunk", piece}, {"done", false}});
      },
      [self](tick_atom) {
        auto& st = self->state;
        if (st.sse && clock_type::now() - st.last_write >= keepalive_after) {
          st.sink->write(": ping\n\n");
          st.last_write = clock_type::now();
        }
        self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
      },
      [self](gone_atom) {
        log::info("pixelcraft.http", "stream client gone; cancelling",
                  {{"correlation_id", self->state.ctx->correlation_id}});
        self->quit();
      },
  };
}

void stream(const ctx_ptr& ctx) {
  agent_turn turn;
  if (!parse_chat_request(ctx, turn))
    return;
  auto* accept = ctx->req.header("accept");
  bool ndjson = accept && accept->find("application/x-ndjson") != std::string::npos &&
                accept->find("text/event-stream") == std::string::npos;
  with_conversation(ctx, std::move(turn), [ctx, ndjson](agent_turn t) {
    ctx->opts->sys->spawn(stream_fn, ctx, std::move(t), !ndjson);
  });
}

// -- history --------------------------------------------------------------------------------

bool conversation_param(const ctx_ptr& ctx, std::string& id) {
  id = ctx->params["conversation_id"];
  if (!valid_conversation_id(id)) {
    ctx->error(404, "conversation not found");
    return false;
  }
  return true;
}

void history(const ctx_ptr& ctx) {
  std::string id;
  if (!conversation_param(ctx, id))
    return;
  validator v;
  json page;
  read_page(ctx->query_value("limit"), ctx->query_value("offset"), v, page);
  if (!v.ok())
    return ctx->invalid(v.detail());
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& reply) { ctx->send(200, std::move(reply)); }, conv_read_atom_v,
      conversation_caller(ctx, id), page["limit"].get<int32_t>(), page["offset"].get<int32_t>());
}

void remove(const ctx_ptr& ctx) {
  std::string id;
  if (!conversation_param(ctx, id))
    return;
  ask<int64_t>(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx, id](int64_t deleted) {
        caf::anon_send(ctx->opts->agents, forget_atom_v, id);
        ctx->send_json(200,
                       {{"deleted", true}, {"conversation_id", id}, {"messages_deleted", deleted}});
      },
      conv_delete_atom_v, conversation_caller(ctx, id));
}

} // namespace

void register_chat_routes(api::impl& a) {
  add_route(a, "POST", "/api/chat/message", access::anyone, message, true);
  add_route(a, "POST", "/api/chat/stream", access::anyone, stream);
  add_route(a, "GET", "/api/chat/history/{conversation_id}", access::anyone, history);
  add_route(a, "DELETE", "/api/chat/history/{conversation_id}", access::anyone, remove);
}

} // namespace pixelcraft::http
