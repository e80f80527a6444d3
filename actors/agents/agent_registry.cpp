#include "actors/agents/agent_registry.hpp"

#include "actors/agent_message.hpp"
#include "actors/deadline.hpp"
#include "actors/errc.hpp"
#include "actors/ids.hpp"
#include "actors/json_limits.hpp"
#include "actors/log.hpp"
#include "actors/reply_json.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace pixelcraft {

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
constexpr const char* component = "pixelcraft.agents";

using agent_actor = workflow_agent_actor::extend<
    caf::replies_to<chat_atom, agent_turn, caf::actor>::with<agent_reply>,
    caf::reacts_to<idle_atom, uint64_t>>;

struct agent_state {
  const agent_def* def = nullptr;
  std::string conversation_id; ///< empty: one-shot (or a workflow's agent)
  std::string workflow_id;     ///< set: this agent's actor in one workflow execution
  agent_registry_options opts;
  agent_registry_actor registry;                      ///< to find the other agents of the workflow
  std::vector<json> history;                          ///< user/assistant turns, oldest first
  std::vector<std::weak_ptr<struct turn>> open_turns; ///< answered with an error on exit
  std::deque<std::shared_ptr<struct turn>> queue;     ///< turns waiting for the one in progress
  bool busy = false;                                  ///< a turn is in progress
  bool loaded = false;
  bool loading = false;
  std::vector<std::function<void(caf::error)>> after_load;
  std::vector<agent_message> inbox; ///< messages delivered and not yet taken by a step
  /// Ids delivered here lately, oldest first (a message sent again is dropped). A sender sends
  /// again within its delivery deadline, so the last `max_seen` ids are enough, and a
  /// long-lived agent's memory stays bounded.
  std::unordered_set<std::string> seen;
  std::deque<std::string> seen_order;
  static constexpr size_t max_seen = 65536;

  /// True the first time `id` arrives (within the last `max_seen`).
  bool first_sight(const std::string& id) {
    if (!seen.insert(id).second)
      return false;
    seen_order.push_back(id);
    if (seen_order.size() > max_seen) {
      seen.erase(seen_order.front());
      seen_order.pop_front();
    }
    return true;
  }
  std::map<std::string, caf::actor> peers; ///< the workflow's other agent actors, by agent id
  std::vector<std::string> participants;   ///< of the workflow, from the last step
  uint64_t generation = 0;
  static inline const char* name = "pixelcraft.agent";
};

using agent_pointer = agent_actor::stateful_pointer<agent_state>;

struct turn {
  agent_turn request;
  json context; ///< `request.context` for the model (an object, or null: none)
  json format;  ///< `request.format` for the model (null: free text)
  caf::actor listener;
  caf::typed_response_promise<agent_reply> rp;
  clock_type::time_point started = clock_type::now();
  deadlines::deadline deadline; ///< from the turn's `budget_ms` (deadline.hpp)
  std::string message;
  json extra = json::array(); ///< tool-call rounds: assistant calls and tool results
  std::vector<std::string> tools_used;
  std::vector<memory_note> memory_writes; ///< successful `remember` calls
  unsigned round = 0;
  bool user_stored = false;            ///< the user message's insert has finished
  caf::error user_error;               ///< ... and failed
  std::function<void()> after_store;   ///< the reply, waiting for the user message to be stored
  std::vector<agent_message> consumed; ///< workflow messages this turn took from the inbox
  std::vector<message_note> messages_sent;
  bool settled = false;                       ///< hand-off sent and consumed messages marked
  std::string id;                             ///< this turn's id (the tools' per-turn budget)
  std::vector<std::string> pending_approvals; ///< approval ids of calls held for a person
  bool approval_notice = false;               ///< the visitor was told the team will confirm
};

void pump(agent_pointer self);

/// The turn in progress is answered: a one-shot agent ends, the others take their next turn
/// (and are passivated `agent_idle_s` after the last one).
void end_turn(agent_pointer self) {
  auto& st = self->state;
  st.busy = false;
  if (st.conversation_id.empty() && st.workflow_id.empty())
    return self->quit();
  auto idle = ++st.generation;
  self->delayed_send(self, std::chrono::seconds(st.opts.settings.agent_idle_s), idle_atom_v, idle);
  pump(self);
}

void fail_turn(agent_pointer self, const std::shared_ptr<turn>& t, caf::error err) {
  // Messages the failed step took go back: a retry (or the next step) gets them.
  auto& inbox = self->state.inbox;
  inbox.insert(inbox.begin(), t->consumed.begin(), t->consumed.end());
  t->consumed.clear();
  t->rp.deliver(std::move(err));
  end_turn(self);
}

// ---- Agent-to-agent messages (workflow agents) ----

void mirror_status(agent_pointer self, std::vector<std::string> ids, const std::string& status) {
  if (self->state.opts.mirror && !ids.empty())
    self->send(self->state.opts.mirror, mirror_status_atom_v, std::move(ids), status);
}

/// Runs `then` once the inbox holds what the database says is still open for this agent
/// (messages survive a restart or a passivation of the actor).
void ensure_loaded(agent_pointer self, std::function<void(caf::error)> then) {
  auto& st = self->state;
  if (st.loaded)
    return then({});
  st.after_load.push_back(std::move(then));
  if (st.loading)
    return;
  st.loading = true;
  agent_message_filter inbox;
  inbox.workflow_id = st.workflow_id;
  inbox.to_agent = st.def->id;
  inbox.open = true;
  inbox.limit = 1000;
  auto done = [self](caf::error err) {
    auto& st = self->state;
    st.loading = false;
    st.loaded = !err;
    auto waiting = std::move(st.after_load);
    st.after_load.clear();
    for (auto& f : waiting)
      f(err);
  };
  self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), amsg_list_atom_v,
                std::move(inbox))
      .then(
          [self, done](agent_message_page& stored) {
            auto& st = self->state;
            std::vector<agent_message> earlier;
            std::vector<std::string> pending;
            for (auto& m : stored.items) {
              if (!st.first_sight(m.message_id))
                continue;
              if (m.status == "pending")
                pending.push_back(m.message_id);
              m.status = "delivered";
              earlier.push_back(std::move(m));
            }
            st.inbox.insert(st.inbox.begin(), earlier.begin(), earlier.end());
            mirror_status(self, pending, "delivered");
            done({});
          },
          [done](caf::error& err) { done(err); });
}

/// One message on its way to a peer (shared by the callbacks, so it is never copied).
struct delivery {
  agent_message msg;
  std::function<void(agent_message)> done;
  bool retried = false;
};

/// Sends `d->msg` (made by `make_agent_message`, already mirrored `pending`) from this agent to
/// another agent actor of the workflow, as a typed CAF message. `d->done` gets it with its
/// status: `delivered`, or `failed` when the target is unreachable.
void send_message(agent_pointer self, std::shared_ptr<delivery> d) {
  auto& st = self->state;
  auto fail = [self, d](const caf::error& err) {
    log::warn(
        component, "agent message not delivered",
        {{"from", d->msg.from_agent}, {"to", d->msg.to_agent}, {"error", caf::to_string(err)}});
    mirror_status(self, {d->msg.message_id}, "failed");
    d->msg.status = "failed";
    d->done(std::move(d->msg));
  };
  auto deliver = [self, d, fail](const caf::actor& peer) {
    self->request(caf::actor_cast<workflow_agent_actor>(peer), deadlines::peer, amsg_atom_v, d->msg)
        .then(
            [d](const std::string&) {
              d->msg.status = "delivered";
              d->done(std::move(d->msg));
            },
            [self, d, fail](caf::error& err) {
              self->state.peers.erase(d->msg.to_agent);
              // A passivated peer: the registry starts a fresh one (which reloads its inbox).
              if (!d->retried && err == caf::sec::request_receiver_down) {
                d->retried = true;
                return send_message(self, d);
              }
              fail(err);
            });
  };
  if (auto it = st.peers.find(d->msg.to_agent); it != st.peers.end())
    return deliver(it->second);
  self->request(st.registry, deadlines::peer, agent_peer_atom_v, d->msg.to_agent, st.workflow_id)
      .then(
          [self, d, deliver](const caf::actor& peer) {
            self->state.peers[d->msg.to_agent] = peer;
            deliver(peer);
          },
          [fail](caf::error& err) { fail(err); });
}

/// A new message from this agent, mirrored `pending`, then sent.
void send_new_message(agent_pointer self, outgoing_message out,
                      std::function<void(agent_message)> done) {
  auto& st = self->state;
  out.from_agent = st.def->id;
  auto d = std::make_shared<delivery>();
  d->msg = make_agent_message(std::move(out), st.workflow_id);
  d->done = std::move(done);
  if (st.opts.mirror)
    self->send(st.opts.mirror, mirror_put_atom_v, d->msg);
  send_message(self, std::move(d));
}

message_note sent_entry(const agent_message& m) {
  return {m.message_id, m.to_agent, m.message_type, m.status};
}

/// The `send_message` tool, run by the agent actor itself. Reply: the tool result.
void send_message_tool(agent_pointer self, const std::shared_ptr<turn>& t, json args,
                       std::function<void(std::string)> done) {
  auto& st = self->state;
  if (args.is_string())
    args = parse_json(args.get<std::string>());
  auto refuse = [&done](const std::string& why) {
    done(json{{"success", false}, {"error", why}}.dump());
  };
  if (!args.is_object())
    return refuse("arguments must be an object");
  auto to = string_or(args, "to_agent"); // the model's arguments: mistyped is "not given"
  auto type = string_or(args, "message_type");
  if (std::find(st.participants.begin(), st.participants.end(), to) == st.participants.end() ||
      to == st.def->id)
    return refuse("to_agent must be another agent of this workflow");
  if (!known_message_type(type))
    return refuse("message_type must be request, response, notification or handoff");
  json content = args.contains("content") ? args["content"] : json::object();
  if (!content.is_object())
    content = json{{"text", content.is_string() ? content.get<std::string>() : content.dump()}};
  outgoing_message out;
  out.to_agent = to;
  out.message_type = type;
  out.content = content.dump(-1, ' ', false, json::error_handler_t::replace);
  send_new_message(self, std::move(out), [t, done](agent_message sent) {
    t->messages_sent.push_back(sent_entry(sent));
    bool ok = sent.status == "delivered";
    done(json{{"success", ok}, {"message_id", sent.message_id}, {"status", sent.status}}.dump());
  });
}

/// `send_message` inside a workflow step, journaled (API.md §13): a step that runs again (after
/// a person's decision, a retry or a crash) does not send its messages a second time; the
/// earlier send's result answers, and the message is reported with the step. One cut off by a
/// crash is sent again: the receiver is our own agent, and a message lost would stall its work.
/// A replay sends its messages itself (they are its agents' own), so no source is consulted.
void send_message_journaled(agent_pointer self, const std::shared_ptr<turn>& t, json args,
                            std::function<void(std::string)> done) {
  auto& st = self->state;
  if (args.is_string())
    args = parse_json(args.get<std::string>());
  if (!args.is_object() || t->request.step <= 0)
    return send_message_tool(self, t, std::move(args), std::move(done));
  journal_call j;
  j.workflow_id = st.workflow_id;
  j.step = t->request.step;
  j.agent = st.def->id;
  j.request = args.dump(-1, ' ', false, json::error_handler_t::replace);
  j.call_key = "send_message:" + digest_hex(j.request);
  j.name = "send_message";
  j.lease_epoch = t->request.lease_epoch;
  auto t_db = deadlines::db(st.opts.settings.db_timeout_ms);
  self->request(st.opts.db, t_db, journal_begin_atom_v, j)
      .then(
          [self, t, args, done, j, t_db](const journal_entry& entry) mutable {
            if (entry.status == "done" && !entry.result.empty()) {
              auto r = parse_json(entry.result); // the journal's jsonb: the send's result
              if (r.is_object() && r.value("message_id", json(nullptr)).is_string())
                t->messages_sent.push_back(
                    {r["message_id"].get<std::string>(), string_or(args, "to_agent"),
                     string_or(args, "message_type"), string_or(r, "status", "delivered")});
              return done(entry.result);
            }
            send_message_tool(self, t, args, [self, done, j, t_db](std::string result) mutable {
              j.status = "done";
              j.result = result;
              self->request(self->state.opts.db, t_db, journal_end_atom_v, j)
                  .then([done, result](bool) { done(result); },
                        [done, result](caf::error&) { done(result); });
            });
          },
          // Unjournaled, the message still goes: a lost message would stall the peer. Unless
          // the run lost its lease: then another node runs this step.
          [self, t, args, done](caf::error& err) mutable {
            if (err == errc::aborted)
              return done(
                  json{{"success", false}, {"error", "the run moved to another node"}}.dump());
            send_message_tool(self, t, args, done);
          });
}

/// Before a workflow step answers: the default hand-off (collaborative runs), then the
/// messages the step took are processed.
void settle_messages(agent_pointer self, std::shared_ptr<turn> t, const std::string& content,
                     std::function<void()> next) {
  auto& st = self->state;
  auto mark = [self, t, next] {
    std::vector<std::string> ids;
    for (const auto& m : t->consumed)
      ids.push_back(m.message_id);
    mirror_status(self, std::move(ids), "processed");
    next();
  };
  const auto& to = t->request.hand_off_to;
  // An agent that was handed the task (or started it) passes it on. One that addressed others
  // itself has said who works next; one that only answered messages has no task to pass; one
  // that declared the result final hands off to nobody.
  bool holds_task = t->consumed.empty();
  for (const auto& m : t->consumed)
    holds_task = holds_task || m.message_type == "handoff";
  if (to.empty() || to == st.def->id || !holds_task || !t->messages_sent.empty() ||
      content.find("[FINAL]") != std::string::npos)
    return mark();
  outgoing_message out;
  out.to_agent = to;
  out.message_type = "handoff";
  out.content = json{{"summary", content.substr(0, 2000)}}.dump(-1, ' ', false,
                                                                json::error_handler_t::replace);
  send_new_message(self, std::move(out), [t, mark](agent_message sent) {
    t->messages_sent.push_back(sent_entry(sent));
    mark();
  });
}

void write_log(agent_pointer self, const turn& t, const std::string& status, const json& output,
               const std::string& error) {
  auto& st = self->state;
  agent_log_entry row;
  row.agent_type = st.def->id;
  row.action = t.request.action.empty() ? "chat" : t.request.action;
  row.conversation_id = st.conversation_id;
  row.input_data =
      json{{"message_chars", t.message.size()}, {"has_context", t.context.is_object()}}.dump();
  row.output_data = output.dump();
  row.execution_time_ms =
      std::chrono::duration<double, std::milli>(clock_type::now() - t.started).count();
  row.status = status;
  row.error_message = error;
  self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), log_add_atom_v,
                std::move(row))
      .then([](bool) {},
            [](caf::error& err) {
              log::warn(component, "agent log not written", {{"error", caf::to_string(err)}});
            });
}

json send_message_tool_def(const agent_state& st) {
  json others = json::array();
  for (const auto& p : st.participants)
    if (p != st.def->id)
      others.push_back(p);
  return {{"name", "send_message"},
          {"description",
           "Send a message to another agent of this workflow: a request for work, a response to "
           "a request, a notification, or a handoff of the task. It sees it in its next step."},
          {"parameters",
           {{"type", "object"},
            {"properties",
             {{"to_agent", {{"type", "string"}, {"enum", others}}},
              {"message_type",
               {{"type", "string"}, {"enum", {"request", "response", "notification", "handoff"}}}},
              {"content", {{"type", "object"}, {"description", "What you want to tell it"}}}}},
            {"required", {"to_agent", "message_type", "content"}}}}};
}

json model_request(const agent_state& st, const turn& t) {
  json messages = json::array();
  messages.push_back({{"role", "system"}, {"content", st.def->system_prompt}});
  if (t.context.is_object() && !t.context.empty())
    messages.push_back(
        {{"role", "system"},
         {"content", "Context provided by the application (JSON): " +
                         t.context.dump(-1, ' ', false, json::error_handler_t::replace)}});
  auto turns = static_cast<size_t>(st.opts.settings.history_turns) * 2;
  auto from = st.history.size() > turns ? st.history.size() - turns : 0;
  for (size_t i = from; i < st.history.size(); ++i)
    messages.push_back(st.history[i]);
  messages.push_back({{"role", "user"}, {"content", t.message}});
  for (const auto& m : t.extra)
    messages.push_back(m);
  json req = {{"model", st.def->model},
              {"messages", messages},
              {"temperature", st.def->temperature},
              {"max_tokens", st.def->max_tokens}};
  if (!t.format.is_null()) {
    req["format"] = t.format;
  } else if (st.opts.tools && t.round < st.opts.settings.tool_rounds) {
    json tools = json::array();
    for (const auto& tool : parse_json_or_throw(st.def->tools_json))
      tools.push_back({{"type", "function"}, {"function", tool}});
    if (!t.request.workflow_id.empty()) // shared memory inside workflows
      for (const auto& tool : parse_json_or_throw(memory_tools_json()))
        tools.push_back({{"type", "function"}, {"function", tool}});
    if (!st.workflow_id.empty() && st.participants.size() > 1)
      tools.push_back({{"type", "function"}, {"function", send_message_tool_def(st)}});
    if (!tools.empty())
      req["tools"] = tools;
  }
  return req;
}

/// In a workflow step, an agent with the `lead_scoring` capability given a lead (the run scored
/// its `input_data.lead_data`) reports the rules' score as `metadata.lead_score` (API.md §7:
/// routing rules read it), whatever the model said. Chat and invoke replies are left as API.md
/// §4 and §5 describe them.
void add_lead_score(const agent_def& def, const agent_turn& request, reply_meta& meta) {
  if (request.workflow_id.empty() || request.lead_score < 0)
    return;
  const auto& caps = def.capabilities;
  if (std::find(caps.begin(), caps.end(), "lead_scoring") != caps.end())
    meta.lead_score = request.lead_score;
}

void deliver_reply(agent_pointer self, turn& t, const std::string& content,
                   const reply_meta& meta) {
  auto& st = self->state;
  agent_reply out;
  out.response = content;
  out.conversation_id = st.conversation_id;
  out.agent_type = st.def->id;
  out.timestamp = log::now_rfc3339();
  out.meta = meta;
  add_lead_score(*st.def, t.request, out.meta);
  out.tools_used = t.tools_used;
  out.memory_writes = t.memory_writes;
  if (!st.workflow_id.empty()) {
    out.messages_sent = t.messages_sent;
    for (const auto& m : t.consumed)
      out.messages_processed.push_back(m.message_id);
  }
  t.rp.deliver(std::move(out));
  end_turn(self);
}

void log_reply(agent_pointer self, const turn& t, const std::string& content,
               const reply_meta& meta) {
  write_log(self, t, meta.degraded ? "error" : "success",
            {{"model_used", meta.model_used.empty() ? json(nullptr) : json(meta.model_used)},
             {"response_chars", content.size()},
             {"degraded", meta.degraded}},
            meta.degraded ? "no model available" : "");
}

/// Stores the reply (when the turn has a conversation), then answers.
void finish_turn(agent_pointer self, std::shared_ptr<turn> t, std::string content,
                 reply_meta meta) {
  auto& st = self->state;
  if (!t->pending_approvals.empty() && !t->approval_notice) {
    // Said by the runtime, not left to the model: something the visitor asked for waits for
    // a person (API.md §12).
    t->approval_notice = true;
    std::string notice = "\n\nOur team will review this request and confirm it with you shortly.";
    if (content.empty())
      notice = notice.substr(2);
    if (t->listener)
      caf::anon_send(t->listener, llm_chunk_atom_v, notice);
    content += notice;
    meta.pending_approvals = t->pending_approvals;
  }
  if (!st.workflow_id.empty() && !t->settled && !t->pending_approvals.empty()) {
    // The step waits for people and runs again: it neither hands off nor consumes its
    // messages now (the run after the decision does).
    t->settled = true;
    auto& inbox = st.inbox;
    inbox.insert(inbox.begin(), t->consumed.begin(), t->consumed.end());
    t->consumed.clear();
  }
  if (!st.workflow_id.empty() && !t->settled) {
    t->settled = true;
    return settle_messages(self, t, content,
                           [self, t, content, meta] { finish_turn(self, t, content, meta); });
  }
  if (st.conversation_id.empty()) {
    log_reply(self, *t, content, meta);
    return deliver_reply(self, *t, content, meta);
  }
  if (t->user_stored && t->user_error)
    return fail_turn(self, t, t->user_error); // nothing half-stored is reported as success
  if (!t->user_stored) {
    // Keeps the stored order user -> assistant: the reply waits for the user message.
    t->after_store = [self, t, content, meta] { finish_turn(self, t, content, meta); };
    return;
  }
  log_reply(self, *t, content, meta);
  new_chat_message row;
  row.conversation_id = st.conversation_id;
  row.role = "assistant";
  row.content = content;
  row.agent_type = st.def->id;
  row.metadata = to_json(meta).dump(); // a jsonb column
  auto tokens = [](int64_t n) {
    return n >= 0 && n <= std::numeric_limits<int32_t>::max() ? static_cast<int32_t>(n)
                                                              : int32_t{-1};
  };
  row.tokens_in = tokens(meta.tokens_in);
  row.tokens_out = tokens(meta.tokens_out);
  self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), msg_add_atom_v,
                std::move(row))
      .then(
          [self, t, content, meta](bool) {
            self->state.history.push_back({{"role", "user"}, {"content", t->message}});
            self->state.history.push_back({{"role", "assistant"}, {"content", content}});
            deliver_reply(self, *t, content, meta);
          },
          [self, t](caf::error& err) { fail_turn(self, t, std::move(err)); });
}

void call_model(agent_pointer self, std::shared_ptr<turn> t);

std::string random_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i)
    out += hex[rng() & 15];
  return out;
}

/// Runs the tool calls of one model answer in parallel, then asks the model again.
void run_tools(agent_pointer self, std::shared_ptr<turn> t, const std::string& content,
               json calls) {
  auto& st = self->state;
  // The model's output (or the journal's record of it): a call that is not an object with a
  // `function` object naming a tool becomes a call of the tool "unknown", which the tool actor
  // refuses. Well-formed calls stay as they were, so replays ask the same.
  for (size_t i = 0; i < calls.size(); ++i) {
    auto& c = calls[i];
    auto fn = c.is_object() ? c.find("function") : c.end();
    bool named = c.is_object() && fn != c.end() && fn->is_object() && fn->contains("name") &&
                 (*fn)["name"].is_string();
    if (!named) {
      auto args = c.is_object() && fn != c.end() && fn->is_object() && fn->contains("arguments")
                      ? (*fn)["arguments"]
                      : json::object();
      c = json{{"function", {{"name", "unknown"}, {"arguments", std::move(args)}}}};
    }
    if (!c.contains("id"))
      c["id"] = "call_" + std::to_string(t->round) + "_" + std::to_string(i);
  }
  t->extra.push_back({{"role", "assistant"}, {"content", content}, {"tool_calls", calls}});
  auto results = std::make_shared<std::vector<std::string>>(calls.size());
  auto pending = std::make_shared<size_t>(calls.size());
  auto base = t->extra.size();
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& fn = calls[i].value("function", json::object());
    auto name = fn.value("name", std::string{"unknown"});
    t->tools_used.push_back(name);
    t->extra.push_back(
        {{"role", "tool"}, {"tool_name", name}, {"tool_call_id", calls[i]["id"]}, {"content", ""}});
    tool_call call;
    call.tool = name;
    call.arguments = fn.value("arguments", json::object()).dump();
    call.agent_type = st.def->id;
    call.execution_id = random_id();
    call.conversation_id = st.conversation_id;
    call.workflow_id = t->request.workflow_id;
    call.owner_id = t->request.owner_id;
    call.client = t->request.client;
    if (t->id.empty())
      t->id = random_id();
    call.turn_id = t->id;
    call.replay_of = t->request.journal_source;
    call.lease_epoch = t->request.lease_epoch;
    call.step = std::max(t->request.step, 0);
    call.lead = t->request.lead;
    auto finish_one = [self, t, results, pending, base, i, name](tool_result result) {
      if (!result.pending_approval.empty())
        t->pending_approvals.push_back(result.pending_approval);
      if (name == "remember" && result.success) {
        auto args =
            t->extra[base - 1]["tool_calls"][i]["function"].value("arguments", json::object());
        if (args.is_string())
          args = parse_json(args.get<std::string>()); // the model's own arguments
        auto value = args.is_object() ? args.value("value", json(nullptr)) : json(nullptr);
        t->memory_writes.push_back({result.memory_key, result.memory_scope, result.memory_version,
                                    value.dump(-1, ' ', false, json::error_handler_t::replace)});
      }
      t->extra[base + i]["content"] = std::move(result.content);
      if (--*pending == 0) {
        ++t->round;
        call_model(self, t);
      }
    };
    if (name == "send_message" && !st.workflow_id.empty()) {
      send_message_journaled(self, t, fn.value("arguments", json::object()),
                             [finish_one](std::string text) {
                               tool_result r;
                               r.content = std::move(text);
                               finish_one(std::move(r));
                             });
      continue;
    }
    // The tool actor bounds every vendor call itself; the turn's deadline is the backstop.
    self->request(st.opts.tools, t->deadline.budget_for(deadlines::tool_backstop), tool_atom_v,
                  std::move(call))
        .then([finish_one](tool_result& result) { finish_one(std::move(result)); },
              [finish_one](caf::error& err) {
                tool_result r;
                r.content = json{{"success", false}, {"error", error_text(err)}}.dump();
                finish_one(std::move(r));
              });
  }
}

/// The tools a model's answer asks for (the model's wire: bounded, never throws).
json tool_calls_of(const model_reply& r) {
  if (r.tool_calls.empty() || r.tool_calls == "[]")
    return json::array();
  auto calls = parse_json(r.tool_calls);
  return calls.is_array() ? calls : json::array();
}

/// The model's answer (or the journal's record of one): tools to run, or the turn's reply.
void on_model_reply(agent_pointer self, std::shared_ptr<turn> t, const model_reply& r,
                    const json& calls) {
  if (!calls.empty() && self->state.opts.tools && t->round < self->state.opts.settings.tool_rounds)
    return run_tools(self, t, r.content, calls);
  reply_meta meta;
  meta.model_used = r.model;
  meta.latency_ms = r.latency_ms;
  meta.tokens_in = r.tokens_in;
  meta.tokens_out = r.tokens_out;
  finish_turn(self, t, r.content, std::move(meta));
}

/// No model: an honest answer, stored and streamed like any other.
void degraded_turn(agent_pointer self, std::shared_ptr<turn> t) {
  if (t->listener)
    caf::anon_send(t->listener, llm_chunk_atom_v, degraded_reply_text());
  reply_meta meta;
  meta.degraded = true;
  meta.latency_ms =
      std::chrono::duration<double, std::milli>(clock_type::now() - t->started).count();
  finish_turn(self, t, degraded_reply_text(), std::move(meta));
}

void call_model_live(agent_pointer self, std::shared_ptr<turn> t,
                     std::optional<journal_call> journaled) {
  auto& st = self->state;
  // The model client ends the call within its budget; we wait that + margin.
  auto budget = t->deadline.budget_for(std::chrono::seconds(st.opts.settings.llm_timeout_s));
  if (budget < deadlines::min_work) {
    write_log(self, *t, "timeout", json::object(), "the turn's deadline passed");
    return fail_turn(self, t,
                     caf::make_error(errc::deadline_exceeded, "the turn's deadline passed"));
  }
  auto req = model_request(st, *t);
  req["timeout_ms"] = budget.count();
  self->request(st.opts.llm, budget + deadlines::margin, llm_chat_atom_v, req.dump(), t->listener)
      .then(
          [self, t, journaled](const model_reply& r) {
            auto calls = tool_calls_of(r);
            if (journaled) {
              // The answer is recorded before anything acts on it (a step resumed after a
              // crash reuses it instead of asking the model again).
              auto entry = *journaled;
              entry.status = "done";
              entry.result = to_json(r, calls).dump(-1, ' ', false, json::error_handler_t::replace);
              self->request(self->state.opts.db,
                            deadlines::db(self->state.opts.settings.db_timeout_ms),
                            journal_end_atom_v, std::move(entry))
                  .then([self, t, r, calls](bool) { on_model_reply(self, t, r, calls); },
                        [self, t, r, calls](caf::error&) { on_model_reply(self, t, r, calls); });
              return;
            }
            on_model_reply(self, t, r, calls);
          },
          [self, t, journaled](caf::error& err) {
            bool partial = err.context().size() > 1 && err.context().match_element<bool>(1) &&
                           err.context().get_as<bool>(1);
            bool no_model = !partial && (err == errc::unavailable || err == errc::not_found);
            if (no_model || err == caf::sec::request_receiver_down) {
              if (journaled) {
                auto entry = *journaled;
                entry.status = "failed";
                entry.result = json{{"degraded", true}, {"error", error_text(err)}}.dump();
                self->request(self->state.opts.db,
                              deadlines::db(self->state.opts.settings.db_timeout_ms),
                              journal_end_atom_v, std::move(entry))
                    .then([](bool) {}, [](caf::error&) {});
              }
              return degraded_turn(self, t);
            }
            auto status = err == caf::sec::request_timeout || err == errc::deadline_exceeded
                              ? "timeout"
                              : "error";
            write_log(self, *t, status, json::object(), error_text(err));
            fail_turn(self, t, std::move(err));
          });
}

/// A workflow step's model calls are journaled (API.md §13): per step, round and a digest of
/// the request. A step that runs again after a crash asks the same questions and reuses the
/// recorded answers, so it asks for the same tool calls, which the tool journal answers.
void call_model(agent_pointer self, std::shared_ptr<turn> t) {
  auto& st = self->state;
  if (st.workflow_id.empty() || t->request.step <= 0)
    return call_model_live(self, t, std::nullopt);
  journal_call j;
  j.workflow_id = st.workflow_id;
  j.step = t->request.step;
  j.agent = st.def->id;
  // The same question in the same step gets the recorded answer: keyed by what is asked, so
  // a step that runs again with people's decisions in its context asks anew.
  auto digest = digest_hex(model_request(st, *t).dump());
  j.call_key = "model:" + std::to_string(t->round) + ":" + digest;
  j.kind = "model";
  j.name = st.def->model;
  j.request = json{{"round", t->round}, {"request_digest", digest}}.dump();
  j.source_workflow_id = t->request.journal_source;
  j.lease_epoch = t->request.lease_epoch;
  self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), journal_begin_atom_v, j)
      .then(
          [self, t, j](const journal_entry& entry) {
            if (entry.status == "done" && !entry.result.empty()) {
              // The recorded answer (the journal's jsonb) is the step's output now: it reaches
              // the monitor too.
              json calls;
              auto r = model_reply_of(parse_json(entry.result), calls);
              if (t->listener && !r.content.empty())
                caf::anon_send(t->listener, llm_chunk_atom_v, r.content);
              return on_model_reply(self, t, r, calls);
            }
            if (entry.status == "failed" && parse_json(entry.result).value("degraded", false))
              return degraded_turn(self, t); // recorded so: a replay answers the same
            if (j.source_workflow_id.empty())
              return call_model_live(self, t, j);
            // A replayed step asks no model: a question its source never asked is a divergence.
            write_log(self, *t, "error", json::object(), "replay diverged");
            fail_turn(self, t,
                      caf::make_error(errc::failed_precondition,
                                      "replay diverged: the replayed execution has no recorded "
                                      "answer for this model call"));
          },
          [self, t, j](caf::error& err) {
            if (j.source_workflow_id.empty() && err != errc::aborted)
              // Without the journal the step still runs; a crash then may ask the model again.
              return call_model_live(self, t, std::nullopt);
            fail_turn(self, t, std::move(err)); // a replay never asks the model itself
          });
}

void store_user_message(agent_pointer self, std::shared_ptr<turn> t) {
  auto& st = self->state;
  if (st.conversation_id.empty())
    return call_model(self, t);
  new_chat_message row;
  row.conversation_id = st.conversation_id;
  row.role = "user";
  row.content = t->message;
  row.agent_type = st.def->id;
  if (t->context.is_object())
    row.metadata =
        json{{"context", t->context}}.dump(-1, ' ', false, json::error_handler_t::replace);
  // Stored while the model works (not before it): the first token is not delayed by a commit.
  self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), msg_add_atom_v,
                std::move(row))
      .then(
          [t](bool) {
            t->user_stored = true;
            if (auto next = std::move(t->after_store)) {
              t->after_store = nullptr;
              next();
            }
          },
          [self, t](caf::error& err) {
            t->user_stored = true;
            t->user_error = err;
            if (auto next = std::move(t->after_store)) {
              t->after_store = nullptr;
              next(); // fails the turn: see finish_turn
            }
          });
  call_model(self, t);
}

/// A workflow step: take the inbox into the step's context, then run the turn.
void start_workflow_turn(agent_pointer self, std::shared_ptr<turn> t) {
  auto& st = self->state;
  if (!t->request.participants.empty())
    st.participants = t->request.participants;
  if (!st.inbox.empty()) {
    json seen = json::array(); // the model's context: an edge
    for (auto& m : st.inbox) {
      auto j = to_json(m);
      seen.push_back({{"message_id", m.message_id},
                      {"from_agent", m.from_agent},
                      {"message_type", m.message_type},
                      {"content", std::move(j["content"])},
                      {"metadata", std::move(j["metadata"])}});
      t->consumed.push_back(std::move(m));
    }
    st.inbox.clear();
    if (!t->context.is_object())
      t->context = json::object();
    t->context["messages_for_you"] = seen;
  }
  call_model(self, t);
}

/// Runs one turn; it ends in `deliver_reply` or `fail_turn`, which call `end_turn`.
void start_turn(agent_pointer self, std::shared_ptr<turn> t) {
  auto& st = self->state;
  if (!st.workflow_id.empty()) {
    return ensure_loaded(self, [self, t](caf::error err) {
      if (err)
        return fail_turn(self, t, std::move(err));
      start_workflow_turn(self, t);
    });
  }
  if (t->request.new_conversation)
    st.loaded = true; // created by this request: nothing to load
  if (st.conversation_id.empty() || st.loaded)
    return store_user_message(self, t);
  // First turn of this actor: load the conversation's memory (survives restarts).
  auto limit =
      static_cast<int32_t>(std::min(std::max(1u, st.opts.settings.history_turns), 10000u) * 2);
  self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), conv_recent_atom_v,
                st.conversation_id, limit)
      .then(
          [self, t](const std::vector<chat_line>& recent) {
            auto& st = self->state;
            for (const auto& m : recent)
              st.history.push_back({{"role", m.role}, {"content", m.content}});
            st.loaded = true;
            store_user_message(self, t);
          },
          [self, t](caf::error& err) { fail_turn(self, t, std::move(err)); });
}

/// Turns are served one at a time, in arrival order, from an explicit queue: the actor never
/// awaits, so peers' messages, inbox counts and shutdown reach it while a model call runs.
void pump(agent_pointer self) {
  auto& st = self->state;
  while (!st.busy && !st.queue.empty()) {
    auto t = std::move(st.queue.front());
    st.queue.pop_front();
    if (!t->rp.pending())
      continue;
    st.busy = true;
    start_turn(self, std::move(t));
  }
}

agent_actor::behavior_type agent_fn(agent_pointer self, const agent_def* def,
                                    std::string conversation_id, std::string workflow_id,
                                    agent_registry_options opts, agent_registry_actor registry) {
  auto& st = self->state;
  st.def = def;
  st.conversation_id = std::move(conversation_id);
  st.workflow_id = std::move(workflow_id);
  st.opts = std::move(opts);
  st.registry = std::move(registry);
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& w : self->state.open_turns)
      if (auto t = w.lock(); t && t->rp.pending())
        t->rp.deliver(caf::make_error(errc::unavailable, "shutting down"));
    self->quit(em.reason);
  });
  return {
      [self](chat_atom, agent_turn& request, caf::actor& listener) -> caf::result<agent_reply> {
        auto& st = self->state;
        auto t = std::make_shared<turn>();
        t->request = std::move(request);
        // The model's parts of the turn (an edge): context and the reply's schema.
        if (!t->request.context.empty())
          t->context = parse_json(t->request.context);
        if (!t->context.is_object())
          t->context = nullptr;
        if (!t->request.format.empty())
          t->format = parse_json(t->request.format);
        if (t->format.is_discarded())
          t->format = nullptr;
        t->listener = listener;
        t->rp = self->make_response_promise<agent_reply>();
        t->message = t->request.message;
        // The caller's deadline, as the budget it had left when it sent the turn.
        auto budget = deadlines::inner(deadlines::http_request(st.opts.settings.request_timeout_s));
        if (t->request.budget_ms >= 0)
          budget = std::min(deadlines::ms(t->request.budget_ms), deadlines::max_budget);
        t->deadline = deadlines::deadline::in(budget);
        auto& open = st.open_turns;
        open.erase(std::remove_if(open.begin(), open.end(), [](auto& w) { return w.expired(); }),
                   open.end());
        open.push_back(t);
        st.queue.push_back(t);
        pump(self);
        return t->rp;
      },
      [self](idle_atom, uint64_t generation) {
        auto& st = self->state;
        if (generation == st.generation && !st.busy && st.queue.empty())
          self->quit(); // passivated: memory lives in the database
      },
      [self](amsg_atom, agent_message& m) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.workflow_id.empty() || m.message_id.empty())
          return caf::make_error(errc::invalid_argument, "not a workflow agent message");
        auto id = m.message_id;
        if (st.first_sight(id)) {
          m.status = "delivered";
          st.inbox.push_back(std::move(m));
          mirror_status(self, {id}, "delivered");
        }
        return id;
      },
      [self](amsg_send_atom, outgoing_message& out) -> caf::result<agent_message> {
        if (self->state.workflow_id.empty() || !known_message_type(out.message_type))
          return caf::make_error(errc::invalid_argument, "malformed agent message");
        auto rp = self->make_response_promise<agent_message>();
        send_new_message(self, std::move(out),
                         [rp](agent_message sent) mutable { rp.deliver(std::move(sent)); });
        return rp;
      },
      [self](inbox_atom) -> caf::result<uint32_t> {
        auto rp = self->make_response_promise<uint32_t>();
        ensure_loaded(self, [self, rp](caf::error err) mutable {
          if (err)
            rp.deliver(std::move(err));
          else
            rp.deliver(static_cast<uint32_t>(self->state.inbox.size()));
        });
        return rp;
      },
  };
}

struct registry_state {
  agent_registry_options opts;
  std::map<std::string, agent_actor> agents; ///< key: agent id + '\n' + conversation id
  std::map<caf::actor_addr, std::string> keys;
  int32_t conversation_agents = 0; ///< of `keys`, the conversations' (not workflows', one-shots')
  bool stopping = false;           ///< told to exit: ending its agents, then itself
  caf::error stop_reason;
  std::vector<caf::actor_addr> to_stop; ///< agents not told yet
  static inline const char* name = "pixelcraft.agent-registry";
};

using registry_pointer = agent_registry_actor::stateful_pointer<registry_state>;

/// Keys are `agent \n conversation`, `agent \n wf:<id>` or `agent \n` (one-shot).
bool is_conversation_key(const std::string& key) {
  auto rest = std::string_view{key}.substr(key.find('\n') + 1);
  return !rest.empty() && rest.rfind("wf:", 0) != 0;
}

/// The actor of (agent, conversation) or (agent, workflow), spawned on first use.
agent_actor find_or_spawn(registry_pointer self, const agent_def* def,
                          const std::string& conversation, const std::string& workflow) {
  auto& st = self->state;
  auto key = def->id + "\n" + (workflow.empty() ? conversation : "wf:" + workflow);
  auto it = st.agents.find(key);
  if (it == st.agents.end()) {
    auto actor = self->spawn<caf::monitored>(agent_fn, def, conversation, workflow, st.opts,
                                             agent_registry_actor{self});
    st.keys[actor.address()] = key;
    st.conversation_agents += !conversation.empty();
    it = st.agents.emplace(key, actor).first;
  }
  return it->second;
}

agent_registry_actor::behavior_type registry_fn(registry_pointer self,
                                                agent_registry_options opts) {
  self->state.opts = std::move(opts);
  // Agents are monitored, not linked: CAF 0.17 keeps an actor's links in a list it scans to
  // remove one, so with a million linked agents every passivation scanned a million entries
  // (bench/idle_agents_bench: 984 turns/s at 100k conversations). Our exit ends them here.
  //
  // They are ended `stop_batch` at a time, 1 ms apart (the next batch is an exit message the
  // registry sends itself), so a stop never makes a million actors runnable together. Under CAF
  // 0.17's work stealing, a steal walks the victim's whole queue, and long queues made stopping
  // 200,000 agents take minutes; the server runs the sharing scheduler for that reason too
  // (app/config.hpp `scheduler_policy`, bench/RESULTS.md).
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    if (st.keys.count(em.source) != 0)
      return;
    if (!st.stopping) {
      st.stopping = true;
      st.stop_reason = em.reason;
      st.to_stop.reserve(st.keys.size());
      for (const auto& [addr, key] : st.keys)
        st.to_stop.push_back(addr);
    } else if (em.source != self->address()) {
      return; // already ending its agents
    }
    constexpr size_t stop_batch = 1024;
    for (size_t i = 0; i < stop_batch && !st.to_stop.empty(); ++i) {
      if (auto agent = caf::actor_cast<caf::actor>(st.to_stop.back()))
        self->send_exit(agent, st.stop_reason);
      st.to_stop.pop_back();
    }
    if (st.to_stop.empty())
      return self->quit(st.stop_reason);
    // Through the untyped handle: system messages are not part of the typed interface.
    caf::delayed_anon_send(caf::actor_cast<caf::actor>(self), std::chrono::milliseconds(1),
                           caf::exit_msg{self->address(), st.stop_reason});
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.keys.find(dm.source);
    if (it == st.keys.end())
      return;
    if (dm.reason && dm.reason != caf::exit_reason::user_shutdown)
      log::warn(component, "agent actor crashed; the next message gets a fresh one",
                {{"agent", it->second.substr(0, it->second.find('\n'))},
                 {"error", caf::to_string(dm.reason)}});
    auto found = st.agents.find(it->second);
    if (found != st.agents.end() && found->second.address() == dm.source)
      st.agents.erase(found);
    st.conversation_agents -= is_conversation_key(it->second);
    st.keys.erase(it);
  });
  return {
      [self](chat_atom a, agent_turn& request, caf::actor& listener) -> caf::result<agent_reply> {
        auto& st = self->state;
        if (st.stopping)
          return caf::make_error(errc::unavailable, "shutting down");
        const auto* def =
            st.opts.catalog->find(request.agent_type.empty() ? "chat" : request.agent_type);
        if (!def)
          return caf::make_error(errc::not_found, "unknown agent");
        auto conversation = request.conversation_id;
        auto workflow = request.workflow_id;
        if (conversation.empty() && workflow.empty()) {
          auto one_shot = self->spawn<caf::monitored>(agent_fn, def, std::string{}, std::string{},
                                                      st.opts, agent_registry_actor{self});
          st.keys[one_shot.address()] = def->id + "\n";
          // The one-shot actor ends after its reply (idle timer) or with us.
          return self->delegate(one_shot, a, std::move(request), std::move(listener));
        }
        auto actor = conversation.empty() ? find_or_spawn(self, def, "", workflow)
                                          : find_or_spawn(self, def, conversation, "");
        return self->delegate(actor, a, std::move(request), std::move(listener));
      },
      [self](agent_peer_atom, const std::string& agent,
             const std::string& workflow) -> caf::result<caf::actor> {
        if (self->state.stopping)
          return caf::make_error(errc::unavailable, "shutting down");
        const auto* def = self->state.opts.catalog->find(agent);
        if (!def)
          return caf::make_error(errc::not_found, "unknown agent");
        if (workflow.empty())
          return caf::make_error(errc::invalid_argument, "no workflow");
        return caf::actor_cast<caf::actor>(find_or_spawn(self, def, "", workflow));
      },
      [self](forget_atom, const std::string& conversation) {
        auto& st = self->state;
        for (auto it = st.agents.begin(); it != st.agents.end();) {
          if (it->first.substr(it->first.find('\n') + 1) == conversation) {
            self->send_exit(it->second, caf::exit_reason::user_shutdown);
            it = st.agents.erase(it);
          } else {
            ++it;
          }
        }
      },
      [self](agents_atom) {
        std::map<std::string, int32_t> counts;
        for (const auto& [addr, key] : self->state.keys)
          ++counts[key.substr(0, key.find('\n'))];
        std::vector<agent_instances> out;
        for (const auto& a : self->state.opts.catalog->all())
          out.push_back({a.id, counts[a.id]});
        return out;
      },
      [self](load_atom) { return self->state.conversation_agents; },
  };
}

} // namespace

const std::string& degraded_reply_text() {
  static const std::string text =
      "I'm sorry, the assistant is unavailable right now, so I can't give you a proper answer. "
      "Your message has been saved. Please try again in a few minutes, or leave your email and "
      "the PixelCraft team will get back to you.";
  return text;
}

agent_registry_actor spawn_agent_registry(caf::actor_system& sys, agent_registry_options opts) {
  return sys.spawn(registry_fn, std::move(opts));
}

} // namespace pixelcraft
