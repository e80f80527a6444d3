// Workflows (API.md §7): execute, list, get, visualization, messages, memory, state.
#include "actors/agent_message.hpp"
#include "http/context.hpp"
#include "http/monitor_hub.hpp"
#include "http/validation.hpp"
#include "workflows/visualization.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>

namespace pixelcraft::http {

namespace {

run_viewer caller(const ctx_ptr& ctx) {
  return {ctx->who.sub, ctx->who.who == role::admin};
}

/// The run spec of a validated `WorkflowRequest` (`workflows::check_run_spec`'s shape), started
/// by the caller.
run_spec spec_of(const ctx_ptr& ctx, const json& spec) {
  run_spec out;
  out.workflow_type = spec.value("workflow_type", std::string{});
  out.participating_agents = spec.value("participating_agents", std::vector<std::string>{});
  out.workflow_config = spec.value("workflow_config", json::object()).dump();
  out.input_data = spec.value("input_data", json::object()).dump();
  auto meta = spec.value("metadata", json::object());
  out.metadata = meta.is_object() ? meta.dump() : "{}";
  out.owner_id = ctx->who.sub;
  out.owner_admin = ctx->who.who == role::admin; // may write `system` memory
  return out;
}

/// `{"seq", "event_type", "data", "timestamp"}` each, for the visualization.
json events_json(const std::vector<run_event>& events) {
  json out = json::array();
  for (const auto& e : events)
    out.push_back({{"seq", e.seq},
                   {"event_type", e.event_type},
                   {"data", parse_json_or_throw(e.data)}, // stored jsonb: ours
                   {"timestamp", e.timestamp}});
  return out;
}

/// `{"items": [AgentMessage], "total"}`.
json page_json(const agent_message_page& page) {
  json items = json::array();
  for (const auto& m : page.items)
    items.push_back(to_json(m));
  return {{"items", std::move(items)}, {"total", page.total}};
}

/// The execution's conversation id, or '' when it has none.
std::string conversation_of(const json& wf) {
  return string_or(wf, "conversation_id");
}

/// The catalogue's agent ids, for the validators.
std::vector<std::string> agent_ids(const ctx_ptr& ctx) {
  std::vector<std::string> ids;
  for (const auto& a : ctx->opts->catalog->all())
    ids.push_back(a.id);
  return ids;
}

void execute(const ctx_ptr& ctx) {
  const json* body = parse_json_object(ctx);
  if (!body)
    return;
  validator v;
  workflow_submission sub;
  validate_workflow_request(*body, agent_ids(ctx), v, sub); // a bad `wait` is listed after
  long long wait = 0;
  if (auto* w = ctx->query_value("wait"))
    wait = query_int(w, "wait", 0, 0, 120, v);
  if (!v.ok())
    return ctx->invalid(v.detail());
  auto spec = spec_of(ctx, sub.spec);
  auto first_agent = spec.participating_agents.front();
  ask<conversation_opened>(
      ctx, ctx->opts->db, ctx->lane_timeout(),
      [ctx, spec = std::move(spec), wait](conversation_opened& opened) mutable {
        spec.conversation_id = opened.conversation_id;
        ask<run_row>(
            ctx, ctx->opts->workflows, ctx->db_timeout(),
            [ctx, wait](run_row& row) {
              auto id = row.workflow_id;
              if (wait <= 0)
                return ctx->send(202, std::move(row.execution));
              ask(
                  ctx, ctx->opts->workflows, std::chrono::seconds(wait + 10),
                  [ctx](std::string& now) {
                    auto state = parse_json_or_throw(now).value("current_state", std::string{});
                    bool done = state == "completed" || state == "failed" || state == "cancelled";
                    ctx->send(done ? 200 : 202, std::move(now));
                  },
                  wf_wait_atom_v, id, static_cast<uint32_t>(wait));
            },
            wf_start_atom_v, std::move(spec));
      },
      conv_open_atom_v, conversation_caller(ctx, sub.conversation_id), first_agent);
}

/// Loads the execution the caller may see (404 otherwise) and continues with it.
void with_workflow(const ctx_ptr& ctx, std::function<void(json)> next) {
  auto id = ctx->params["id"];
  if (!is_uuid(id))
    return ctx->error(404, "workflow not found");
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [next](std::string& row) { next(parse_json_or_throw(row)); }, run_get_atom_v, id,
      caller(ctx));
}

void list(const ctx_ptr& ctx) {
  validator v;
  json page;
  read_page(ctx->query_value("limit"), ctx->query_value("offset"), v, page);
  if (!v.ok())
    return ctx->invalid(v.detail());
  run_filter f;
  f.viewer = caller(ctx);
  f.limit = page["limit"].get<int32_t>();
  f.offset = page["offset"].get<int32_t>();
  f.conversation_id = ctx->query_text("conversation_id");
  f.workflow_type = ctx->query_text("workflow_type");
  f.current_state = ctx->query_text("current_state");
  ask(
      ctx, ctx->opts->db, ctx->db_timeout(),
      [ctx](std::string& out) { ctx->send(200, std::move(out)); }, run_list_atom_v, std::move(f));
}

void messages_post(const ctx_ptr& ctx) {
  if (!parse_json_object(ctx))
    return;
  with_workflow(ctx, [ctx](json wf) {
    const json& body = ctx->parsed_body->doc; // checked above; owned by ctx
    validator v;
    json msg;
    if (!validate_agent_message(body, wf.value("participating_agents", std::vector<std::string>{}),
                                v, msg))
      return ctx->invalid(v.detail());
    ask<agent_message>(
        ctx, ctx->opts->workflows, ctx->db_timeout(),
        [ctx](agent_message& out) { ctx->send_json(201, to_json(out)); }, wf_msg_atom_v,
        wf["workflow_id"].get<std::string>(), outgoing_from_json(msg));
  });
}

void messages_get(const ctx_ptr& ctx) {
  validator v;
  json page;
  read_page(ctx->query_value("limit"), ctx->query_value("offset"), v, page);
  if (!v.ok())
    return ctx->invalid(v.detail());
  agent_message_filter filter;
  filter.limit = page["limit"].get<int32_t>();
  filter.offset = page["offset"].get<int32_t>();
  filter.from_agent = ctx->query_text("from_agent");
  filter.to_agent = ctx->query_text("to_agent");
  filter.message_type = ctx->query_text("message_type");
  filter.status = ctx->query_text("status");
  with_workflow(ctx, [ctx, filter](json wf) mutable {
    filter.workflow_id = wf["workflow_id"].get<std::string>();
    ask<agent_message_page>(
        ctx, ctx->opts->db, ctx->db_timeout(),
        [ctx](agent_message_page& page) { ctx->send_json(200, page_json(page)); }, amsg_list_atom_v,
        std::move(filter));
  });
}

/// The step journal (API.md §13): the calls the execution's steps made, in order.
void journal(const ctx_ptr& ctx) {
  with_workflow(ctx, [ctx](json wf) {
    ask(
        ctx, ctx->opts->db, ctx->db_timeout(),
        [ctx](std::string& out) { ctx->send(200, std::move(out)); }, journal_list_atom_v,
        wf["workflow_id"].get<std::string>());
  });
}

/// Replay or fork (API.md §13): a new execution of the same request whose steps (all of them,
/// or those before `from_step`) are answered by this one's journal and approvals; the caller
/// owns it, as one they started.
void replay(const ctx_ptr& ctx) {
  const json* body = parse_json_object(ctx);
  if (!body)
    return;
  validator v;
  std::string mode;
  long long from_step = 0;
  if (!validate_replay_request(*body, v, mode, from_step))
    return ctx->invalid(v.detail());
  with_workflow(ctx, [ctx, mode, from_step](json wf) {
    auto state = wf.value("current_state", std::string{});
    bool ended = state == "completed" || state == "failed" || state == "cancelled";
    if (mode == "replay" && !ended)
      return ctx->error(409, "only an execution that has ended can be replayed; this one is " +
                                 state + " (fork it from a recorded step instead)");
    auto recorded = wf.value("current_step", 0LL);
    if (mode == "fork" && from_step > recorded + 1) {
      validator v;
      v.add({"body", "from_step"},
            "The execution has " + std::to_string(recorded) +
                " recorded steps; a fork starts at step " + std::to_string(recorded + 1) +
                " at the latest",
            "value_error");
      return ctx->invalid(v.detail());
    }
    auto source = wf["workflow_id"].get<std::string>();
    json meta = wf.value("metadata", json::object());
    if (!meta.is_object())
      meta = json::object();
    for (auto key : {"replay_of", "fork_of", "from_step"})
      meta.erase(key);
    if (mode == "replay") {
      meta["replay_of"] = source;
    } else {
      meta["fork_of"] = source;
      meta["from_step"] = from_step;
    }
    ask<run_row>(
        ctx, ctx->opts->db, ctx->db_timeout(),
        [ctx, mode, from_step, source, meta = meta.dump()](run_row& row) {
          run_spec spec;
          spec.workflow_type = row.workflow_type;
          spec.participating_agents = row.participating_agents;
          spec.workflow_config = row.workflow_config;
          spec.input_data = row.input_data;
          spec.metadata = meta;
          spec.owner_id = ctx->who.sub;
          spec.owner_admin = ctx->who.who == role::admin;
          spec.replay_source = source;
          if (mode == "fork")
            spec.replay_live_from = static_cast<int32_t>(from_step);
          if (spec.participating_agents.empty())
            return ctx->error(409, "the execution has no agents to replay");
          auto first_agent = spec.participating_agents.front();
          ask<conversation_opened>(
              ctx, ctx->opts->db, ctx->lane_timeout(),
              [ctx, spec = std::move(spec)](conversation_opened& opened) mutable {
                spec.conversation_id = opened.conversation_id;
                ask<run_row>(
                    ctx, ctx->opts->workflows, ctx->db_timeout(),
                    [ctx](run_row& row) { ctx->send(202, std::move(row.execution)); },
                    wf_start_atom_v, std::move(spec));
              },
              conv_open_atom_v, conversation_caller(ctx), first_agent);
        },
        run_load_atom_v, source);
  });
}

void memory(const ctx_ptr& ctx) {
  with_workflow(ctx, [ctx](json wf) {
    ask<std::vector<memory_entry>>(
        ctx, ctx->opts->db, ctx->db_timeout(),
        [ctx](std::vector<memory_entry>& entries) { ctx->send(200, memory_list_json(entries)); },
        mem_list_atom_v, wf["workflow_id"].get<std::string>(), conversation_of(wf));
  });
}

void state(const ctx_ptr& ctx) {
  const json* body = parse_json_object(ctx);
  if (!body)
    return;
  validator v;
  std::string action;
  if (!validate_state_patch(*body, v, action))
    return ctx->invalid(v.detail());
  with_workflow(ctx, [ctx, action](json wf) {
    ask(
        ctx, ctx->opts->workflows, ctx->db_timeout(),
        [ctx](std::string& out) { ctx->send(200, std::move(out)); }, wf_action_atom_v,
        wf["workflow_id"].get<std::string>(), action);
  });
}

void visualize(const ctx_ptr& ctx) {
  with_workflow(ctx, [ctx](json wf) {
    auto id = wf["workflow_id"].get<std::string>();
    auto db = ctx->opts->db;
    ask<std::vector<run_event>>(
        ctx, db, ctx->db_timeout(),
        [ctx, wf, id, db](std::vector<run_event>& stored) {
          auto ev = events_json(stored);
          ask<agent_message_page>(
              ctx, db, ctx->db_timeout(),
              [ctx, wf, id, db, ev](agent_message_page& msgs) {
                ask<std::vector<memory_entry>>(
                    ctx, db, ctx->db_timeout(),
                    [ctx, wf, ev, msgs](std::vector<memory_entry>& mem) {
                      std::vector<std::string> keys;
                      for (const auto& e : mem)
                        keys.push_back(e.key);
                      ctx->send_json(
                          200, workflows::visualization(wf, ev, page_json(msgs)["items"], keys));
                    },
                    mem_list_atom_v, id, conversation_of(wf));
              },
              amsg_list_atom_v, agent_message_filter{id, "", "", "", "", false, 1000, 0});
        },
        run_events_atom_v, id, int64_t{0});
  });
}

std::atomic<uint64_t> next_monitor_id{1};

/// Whether `list` (a comma-separated header value) holds `token` (lower case), in any case.
bool has_token(std::string_view list, std::string_view token) {
  while (true) {
    auto comma = list.find(',');
    // White space around an item is not part of it; tokens compare in any case.
    if (lower(trim(list.substr(0, comma))) == token)
      return true;
    if (comma == std::string_view::npos)
      return false;
    list.remove_prefix(comma + 1);
  }
}

/// RFC 6455 §4.2.1: an upgrade to WebSocket (any case), version 13 (anything else: 426 naming
/// it, §4.2.2), and a key that is 16 bytes in base64. Answers the refusal itself.
bool websocket_handshake_ok(const ctx_ptr& ctx) {
  auto* upgrade = ctx->req.header("upgrade");
  if (!upgrade || !has_token(*upgrade, "websocket")) {
    ctx->error(400, "expected a WebSocket upgrade request");
    return false;
  }
  auto* version = ctx->req.header("sec-websocket-version");
  if (!version) {
    ctx->error(400, "expected a WebSocket upgrade request (Sec-WebSocket-Version)");
    return false;
  }
  if (trim(*version) != "13") {
    ctx->headers.emplace_back("Sec-WebSocket-Version", "13");
    ctx->error(426, "unsupported WebSocket version (this server speaks 13)");
    return false;
  }
  auto* raw_key = ctx->req.header("sec-websocket-key");
  auto key = raw_key ? trim(*raw_key) : std::string{};
  auto b64 = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  };
  if (key.size() != 24 || !std::all_of(key.begin(), key.begin() + 22, b64) ||
      key.compare(22, 2, "==") != 0) {
    ctx->error(400, "expected a WebSocket upgrade request (Sec-WebSocket-Key)");
    return false;
  }
  return true;
}

/// `GET /api/ws/workflows/{id}`: authenticated and authorised before the upgrade, so a bad
/// token or someone else's workflow never gets a 101.
void monitor(const ctx_ptr& ctx) {
  if (ctx->who.who == role::anonymous) {
    ctx->headers.emplace_back("WWW-Authenticate", "Bearer");
    return ctx->error(401, "authentication required (Authorization header or ?token=)");
  }
  validator v;
  int64_t since = -1;
  if (auto* s = ctx->query_value("since"))
    since = query_int(s, "since", 0, 0, std::numeric_limits<int64_t>::max() / 2, v);
  if (!v.ok())
    return ctx->invalid(v.detail());
  if (!websocket_handshake_ok(ctx))
    return;
  ctx->params["id"] = ctx->params["workflow_id"];
  with_workflow(ctx, [ctx, since](json wf) {
    auto hub = ctx->opts->monitors;
    if (!hub)
      return ctx->error(503, "service unavailable: monitor hub not running");
    auto id = next_monitor_id++;
    ws_callbacks cb;
    cb.ready = [hub, id, since, wf_id = wf["workflow_id"].get<std::string>()](ws_session_ptr s) {
      monitor_sub sub{id, wf_id, since, std::move(s)};
      caf::anon_send(caf::actor_cast<monitor_hub_actor>(hub), ws_sub_atom_v, std::move(sub));
    };
    cb.text = [hub, id](std::string text) {
      caf::anon_send(caf::actor_cast<monitor_hub_actor>(hub), ws_text_atom_v, id, std::move(text));
    };
    cb.closed = [hub, id] {
      caf::anon_send(caf::actor_cast<monitor_hub_actor>(hub), ws_close_atom_v, id);
    };
    if (!ctx->upgrade(std::move(cb)))
      ctx->error(400, "expected a WebSocket upgrade request (Sec-WebSocket-Key)");
  });
}

} // namespace

void register_workflow_routes(api::impl& a) {
  add_route(a, "GET", "/api/ws/workflows/{workflow_id}", access::anyone, monitor);
  add_route(a, "POST", "/api/agents/workflows/execute", access::user, execute, true);
  add_route(a, "GET", "/api/agents/workflows", access::user, list);
  add_route(a, "GET", "/api/agents/workflows/{id}", access::user, [](const ctx_ptr& ctx) {
    with_workflow(ctx, [ctx](json wf) { ctx->send_json(200, wf); });
  });
  add_route(a, "GET", "/api/agents/workflows/{id}/visualization", access::user, visualize);
  add_route(a, "POST", "/api/agents/workflows/{id}/messages", access::user, messages_post, true);
  add_route(a, "GET", "/api/agents/workflows/{id}/messages", access::user, messages_get);
  add_route(a, "GET", "/api/agents/workflows/{id}/memory", access::user, memory);
  add_route(a, "GET", "/api/agents/workflows/{id}/journal", access::user, journal);
  add_route(a, "POST", "/api/agents/workflows/{id}/replay", access::user, replay, true);
  add_route(a, "PATCH", "/api/agents/workflows/{id}/state", access::user, state);
}

} // namespace pixelcraft::http
