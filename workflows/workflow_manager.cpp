// The workflow manager and one run actor per execution. The run actor is the only writer of
// its execution row while it holds the lease; every save is fenced by the lease epoch.
#include "workflows/workflow_manager.hpp"

#include "actors/agent_message.hpp"
#include "actors/agents/tool_policy.hpp"
#include "actors/deadline.hpp"
#include "actors/errc.hpp"
#include "actors/json_limits.hpp"
#include "actors/leads/lead_scoring.hpp"
#include "actors/log.hpp"
#include "actors/reply_json.hpp"
#include "workflows/routing_rules.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace pixelcraft::workflows {

namespace {

using json = nlohmann::json;
constexpr const char* component = "pixelcraft.workflows";

/// The run actor's interface: the manager's requests for one execution, plus private ticks.
using run_actor = caf::typed_actor<
    caf::replies_to<wf_action_atom, std::string, std::string>::with<std::string>,
    caf::replies_to<wf_wait_atom, std::string, uint32_t>::with<std::string>,
    caf::replies_to<wf_msg_atom, std::string, outgoing_message>::with<agent_message>,
    caf::reacts_to<lease_atom>, caf::reacts_to<tick_atom, uint64_t>,
    /// Model output of a step in progress, forwarded by its listener (an `output_delta` event).
    caf::reacts_to<llm_chunk_atom, std::string, std::string>,
    /// Look at the approvals the waiting steps raised (a notice, or the run's own check).
    caf::reacts_to<wf_approval_atom, std::string>>;

bool terminal(const std::string& s) {
  return s == "completed" || s == "failed" || s == "cancelled";
}

/// What a save changes besides the state, path and results (taken from the run).
struct save_changes {
  bool completed = false;
  std::optional<std::string> error_message; ///< set (empty: cleared)
  /// A step's outcome as workflow memory `<agent>`, written in the same transaction.
  std::string memory_agent;
  std::string memory_value;
};

struct run_state {
  manager_options opts;
  std::string id;
  run_row row;                  ///< the execution as loaded (its server-side fields)
  json doc = json::object();    ///< the `WorkflowExecution` as last loaded or saved
  json config = json::object(); ///< `workflow_config`
  json input = json::object();  ///< `input_data`
  long long epoch = 0;
  std::string state = "pending";
  json path = json::array();
  json results = json::object();
  int in_flight = 0; ///< steps running now
  bool finishing = false;
  std::vector<caf::actor> listeners; ///< of steps in flight: killing them cancels the model call
  std::map<uint64_t, caf::typed_response_promise<std::string>> waiters;
  uint64_t next_waiter = 1;
  std::map<std::string, unsigned> attempts;
  json agent_memory = json::object(); ///< values agents stored with `remember`, by key
  /// A step waiting for people (API.md §12): the approvals it raised, and whom it hands off to.
  struct held_step {
    std::vector<std::string> ids;
    std::string hand_off_to;
  };
  std::map<std::string, held_step> awaiting; ///< by agent
  /// Decided approvals a waiting step runs again with (`context.approvals`), by agent.
  std::map<std::string, json> decided;
  std::set<std::string> seen_approvals;            ///< every approval id a step of this run raised
  std::map<std::string, unsigned> approval_reruns; ///< per agent: reruns for new approvals
  bool approval_check_running = false;             ///< a look at the approvals is in flight
  uint64_t approval_timer = 0;                     ///< the armed timer's generation (0: none armed)
  uint64_t approval_timers = 0;                    ///< generations handed out
  std::map<std::string, unsigned> unresolved_looks; ///< approved, result not stored yet: looks
  /// Steps whose approvals were decided while the run was paused: they run again on resume
  /// (agent, hand_off_to), before anything else is chosen.
  std::vector<std::pair<std::string, std::string>> rerun_on_resume;
  /// Saves run one at a time, in order (the next is sent when the last is stored): events keep
  /// their order and the actor keeps serving its mailbox while one is in flight.
  std::deque<std::pair<run_save, std::function<void()>>> saves;
  bool saving = false;
  /// A step's record while what follows it is decided (`record_then_next`): the next save
  /// (the next step's start, or the end) takes it along, so both commit as one.
  std::optional<std::pair<save_changes, json>> carry;
  /// Until the execution is claimed and loaded, requests wait here (they are answered from the
  /// loaded state, or with an error when this node does not get the execution).
  bool ready = false;
  /// Each: how to answer it with an error, and how to serve it.
  std::vector<std::pair<std::function<void(caf::error)>, std::function<void()>>> deferred;
  static inline const char* name = "pixelcraft.workflow-run";

  std::string type() const { return row.workflow_type.empty() ? "sequential" : row.workflow_type; }
  /// The step number `agent`'s next step has: stable across its reruns and restarts (a
  /// parallel run numbers its agents by their place; the others by the path so far).
  size_t step_of(const std::string& agent) const {
    if (type() == "parallel") {
      auto all = agents();
      for (size_t i = 0; i < all.size(); ++i)
        if (all[i] == agent)
          return i + 1;
    }
    return path.size() + 1;
  }
  /// The execution whose journal answers `agent`'s next step (API.md §13), or "": live.
  std::string replay_source_for(const std::string& agent) const {
    if (row.replay_source.empty())
      return {};
    if (row.replay_live_from >= 0 &&
        static_cast<long long>(step_of(agent)) >= static_cast<long long>(row.replay_live_from))
      return {};
    return row.replay_source;
  }
  const std::vector<std::string>& agents() const { return row.participating_agents; }
  json execution() const {
    json e = doc;
    e["current_state"] = state;
    e["execution_path"] = path;
    e["results"] = results;
    e["current_step"] = path.size();
    return e;
  }
};

using run_pointer = run_actor::stateful_pointer<run_state>;

void run_next(run_pointer self);

void save_next(run_pointer self);

/// Saves progress (fenced) with events; `then` runs once saved. A lost lease ends the actor:
/// another node owns the execution now. The changes are taken now; the save is queued.
void save(run_pointer self, save_changes changes, json events, std::function<void()> then = {}) {
  auto& st = self->state;
  auto memory_at = events.size(); // a step's memory write follows the step's own events
  if (st.carry && changes.memory_agent.empty()) { // the carried record goes first
    auto [carried, before] = std::move(*st.carry);
    st.carry.reset();
    memory_at = before.size();
    changes.memory_agent = std::move(carried.memory_agent);
    changes.memory_value = std::move(carried.memory_value);
    changes.completed = changes.completed || carried.completed;
    if (!changes.error_message)
      changes.error_message = std::move(carried.error_message);
    for (auto& e : events)
      before.push_back(std::move(e));
    events = std::move(before);
  } else if (st.carry) {
    auto [carried, before] = std::move(*st.carry);
    st.carry.reset();
    save(self, std::move(carried), std::move(before));
  }
  run_save x;
  x.workflow_id = st.id;
  x.lease_epoch = st.epoch;
  x.current_state = st.state;
  x.current_step = static_cast<int32_t>(st.path.size());
  // The jsonb columns and event data, rendered once here.
  x.execution_path = st.path.dump(-1, ' ', false, json::error_handler_t::replace);
  x.results = st.results.dump(-1, ' ', false, json::error_handler_t::replace);
  x.completed = changes.completed;
  if (changes.error_message) {
    x.set_error = true;
    x.error_message = std::move(*changes.error_message);
  }
  x.memory_agent = std::move(changes.memory_agent);
  x.memory_value = std::move(changes.memory_value);
  x.memory_event_at = static_cast<uint32_t>(memory_at);
  x.events.reserve(events.size());
  for (auto& e : events)
    x.events.push_back(
        {0,
         e.value("event_type", std::string{}),
         e.value("data", json::object()).dump(-1, ' ', false, json::error_handler_t::replace),
         {}});
  st.saves.emplace_back(std::move(x), std::move(then));
  save_next(self);
}

/// Ends the run actor; queued saves are dropped (nothing is written after the end). Requests
/// still waiting (a cancel whose save lost the lease) are told to retry: the execution now
/// runs elsewhere, or resumes shortly.
void stop(run_pointer self, caf::error reason = {}) {
  self->state.saves.clear();
  for (auto& [id, rp] : self->state.waiters)
    rp.deliver(
        caf::make_error(errc::failed_precondition, "the workflow is being resumed; retry shortly"));
  self->state.waiters.clear();
  self->quit(std::move(reason));
}

void save_next(run_pointer self) {
  auto& st = self->state;
  if (st.saving || st.saves.empty())
    return;
  auto [changes, then] = std::move(st.saves.front());
  st.saves.pop_front();
  st.saving = true;
  // Through the commit lanes: it may wait for the batch ahead of it (deadline.hpp).
  self->request(st.opts.db, deadlines::db_lane(st.opts.settings.db_timeout_ms), run_save_atom_v,
                std::move(changes))
      .then(
          [self, then = std::move(then)](run_saved& saved) {
            auto& st = self->state;
            st.saving = false;
            st.doc = parse_json_or_throw(saved.execution); // rendered by our SQL
            // The memory store caches this execution's keys: it takes the step's write.
            if (saved.memory.found() && st.opts.memory)
              self->send(st.opts.memory, mem_stored_atom_v,
                         memory_key{"workflow", st.id, saved.memory.key, st.id}, saved.memory);
            if (st.opts.bus)
              for (auto& e : saved.events)
                caf::anon_send(st.opts.bus, wf_event_atom_v, st.id, std::move(e));
            if (then)
              then();
            save_next(self);
          },
          [self](caf::error& err) {
            log::warn(component, "workflow save failed; stopping here",
                      {{"workflow_id", self->state.id}, {"error", caf::to_string(err)}});
            stop(self, std::move(err));
          });
}

/// Records `events` (a step's completion, the start of the run) together with what comes next:
/// `run_next` decides it now, and the save it makes (the next step's start, or the end) takes
/// them along, so they commit as one. Saved alone when nothing follows at once (a parallel run
/// waiting for its other steps, a pause, an inbox query in flight). The next step's model call
/// waits for that save (see `step`), so nothing runs on a step that is not recorded.
void record_then_next(run_pointer self, save_changes changes, json events) {
  auto& st = self->state;
  st.carry.emplace(std::move(changes), std::move(events));
  run_next(self);
  if (st.carry) {
    auto [carried, alone] = std::move(*st.carry);
    st.carry.reset();
    save(self, std::move(carried), std::move(alone));
  }
}

void answer_waiters(run_pointer self) {
  for (auto& [id, rp] : self->state.waiters)
    rp.deliver(self->state.execution().dump());
  self->state.waiters.clear();
}

void finish(run_pointer self, const std::string& state, const std::string& error = {}) {
  auto& st = self->state;
  if (st.finishing)
    return;
  st.finishing = true;
  for (auto& l : st.listeners)
    caf::anon_send_exit(l, caf::exit_reason::user_shutdown); // cancels model calls in flight
  st.state = state;
  save_changes changes;
  changes.completed = true;
  if (!error.empty())
    changes.error_message = error;
  auto event = state == "completed" ? "workflow_completed"
               : state == "failed"  ? "workflow_failed"
                                    : "workflow_cancelled";
  save(self, std::move(changes),
       json::array({{{"event_type", "state_changed"}, {"data", {{"state", state}}}},
                    {{"event_type", event},
                     {"data", {{"error_message", error.empty() ? json(nullptr) : json(error)}}}}}),
       [self] {
         answer_waiters(self);
         // The agents' actors of this execution are done too.
         self->send(self->state.opts.agents, forget_atom_v, "wf:" + self->state.id);
         stop(self);
       });
  log::info(component, "workflow finished", {{"workflow_id", st.id}, {"state", state}});
}

/// A step answered: record its result (after any last output), write memory, go on.
void check_approvals(run_pointer self);

/// Holds a step whose tool calls wait for people; true when it does (the step is not
/// recorded: it runs again once they decided).
bool await_approvals(run_pointer self, const std::string& agent, const reply_meta& meta,
                     const std::string& rest, const std::string& hand_off_to) {
  auto& st = self->state;
  const auto& ids = meta.pending_approvals;
  if (ids.empty())
    return false;
  bool fresh = false;
  for (const auto& id : ids)
    fresh = st.seen_approvals.insert(id).second || fresh;
  // A step that keeps raising new approvals is recorded as it is after three reruns.
  if (fresh && st.approval_reruns[agent]++ >= 3)
    return false;
  st.awaiting[agent] = {ids, hand_off_to};
  json events = json::array();
  if (!rest.empty())
    events.push_back(
        {{"event_type", "output_delta"}, {"data", {{"agent", agent}, {"text", rest}}}});
  for (const auto& id : ids)
    events.push_back(
        {{"event_type", "approval_requested"},
         {"data", {{"agent", agent}, {"approval_id", id}, {"step", st.step_of(agent)}}}});
  if (st.state == "running") {
    st.state = "awaiting_approval";
    events.push_back({{"event_type", "state_changed"}, {"data", {{"state", "awaiting_approval"}}}});
  }
  save(self, {}, events, [self] { check_approvals(self); });
  return true;
}

void on_step_done(run_pointer self, const std::string& agent, const agent_reply& reply,
                  const std::string& rest, const std::string& hand_off_to) {
  auto& st = self->state;
  --st.in_flight;
  if (st.finishing)
    return;
  if (await_approvals(self, agent, reply.meta, rest, hand_off_to))
    return;
  st.awaiting.erase(agent);
  st.decided.erase(agent);
  st.approval_reruns.erase(agent);
  // The step's record in the results (a jsonb column).
  json result = {{"content", reply.response},
                 {"metadata", to_json(reply.meta)},
                 {"tools_used", reply.tools_used}};
  st.path.push_back(agent);
  st.results[agent] = result;
  json events = json::array();
  if (!rest.empty())
    events.push_back(
        {{"event_type", "output_delta"}, {"data", {{"agent", agent}, {"text", rest}}}});
  events.push_back({{"event_type", "step_completed"},
                    {"data", {{"agent", agent}, {"degraded", reply.meta.degraded}}}});
  // Writes the agent made itself (the `remember` tool).
  for (const auto& w : reply.memory_writes) {
    if (w.scope == "workflow") { // for routing rules (`memory.<key>`): the model's value
      auto value = parse_json(w.value);
      st.agent_memory[w.key] = value.is_discarded() ? json(nullptr) : std::move(value);
    }
    events.push_back({{"event_type", "memory_updated"},
                      {"data",
                       {{"key", w.key},
                        {"scope", w.scope},
                        {"version", w.version},
                        {"created_by_agent", agent}}}});
  }
  // Messages the agent sent during the step (its actor already delivered them).
  for (const auto& m : reply.messages_sent) {
    auto data = to_json(m);
    data["from_agent"] = agent;
    events.push_back({{"event_type", "agent_message"}, {"data", std::move(data)}});
  }
  // The step's outcome goes to workflow memory too (`memory.<agent>` in routing rules), in the
  // step's own save: one transaction stores both (issue 11).
  json value = {{"summary", result["content"].get<std::string>().substr(0, 500)},
                {"metadata", result["metadata"]}};
  save_changes changes;
  changes.memory_agent = agent;
  // The summary may cut a multi-byte character: replaced, never a throw in the run actor.
  changes.memory_value = value.dump(-1, ' ', false, json::error_handler_t::replace);
  auto record = [self, changes = std::move(changes), events = std::move(events)]() mutable {
    record_then_next(self, std::move(changes), std::move(events));
  };
  // The step is recorded only once its messages (and their statuses) are stored.
  if (!st.opts.mirror)
    return record();
  self->request(st.opts.mirror, deadlines::db(st.opts.settings.db_timeout_ms), mirror_flush_atom_v)
      .then([record](bool) mutable { record(); },
            [self](caf::error& err) {
              log::warn(component, "step messages not stored; stopping here",
                        {{"workflow_id", self->state.id}, {"error", caf::to_string(err)}});
              stop(self, err); // resumed later (lease expiry) from the last recorded step
            });
}

void ask_agent(run_pointer self, const std::string& agent, const std::string& hand_off_to,
               const caf::actor& listener, std::chrono::seconds timeout, agent_turn turn);

void step(run_pointer self, const std::string& agent, const std::string& hand_off_to = {}) {
  auto& st = self->state;
  const auto& input = st.input;
  auto message = input.value("message", std::string{});
  json context = input;
  context.erase("message");
  context["workflow"] = {{"workflow_id", st.id}, {"type", st.type()}, {"step", st.step_of(agent)}};
  if (!st.results.empty())
    context["previous_results"] = st.results;
  if (auto it = st.decided.find(agent); it != st.decided.end())
    context["approvals"] = it->second; // what people decided on this step's held calls
  if (message.empty())
    message = "Work on this task for the workflow and answer concisely.";
  agent_turn turn;
  turn.agent_type = agent;
  turn.message = message;
  turn.context = context.dump(-1, ' ', false, json::error_handler_t::replace); // for the model
  turn.action = "workflow_step";
  turn.workflow_id = st.id;
  turn.participants = st.agents();
  turn.owner_id = st.row.owner_id; // `global` shared memory is the owner's
  turn.step = static_cast<int32_t>(st.step_of(agent));
  turn.lease_epoch = st.epoch; // the journal refuses calls of a run whose lease moved on
  // The lead the run was started with, from the stored input: the tools' policy sends to and
  // writes for this lead without asking a person (API.md §12), whatever the model writes.
  turn.lead = bound_lead_of(input.value("lead_data", json(nullptr)));
  if (auto lead = input.find("lead_data"); lead != input.end() && lead->is_object())
    turn.lead_score = score_lead(lead_profile_of(*lead).signals()).score;
  turn.hand_off_to = hand_off_to;
  // A replay's steps, and a fork's before its `from_step`, are answered by the source's journal.
  turn.journal_source = st.replay_source_for(agent);
  // A listener per step receives the model's pieces: it forwards them every 300 ms (as
  // output_delta events) and hands over the rest when asked; killing it cancels the model call.
  auto run = caf::actor_cast<run_actor>(self);
  auto listener = self->spawn([run, agent](caf::stateful_actor<std::string>* l) -> caf::behavior {
    // Ends with its run actor (one-way: a listener's own end never affects the run).
    l->monitor(run);
    l->set_down_handler([l](caf::down_msg&) { l->quit(); });
    l->delayed_send(l, std::chrono::milliseconds(300), tick_atom_v);
    return {
        [l](llm_chunk_atom, const std::string& piece) { l->state += piece; },
        [l, run, agent](tick_atom) {
          if (!l->state.empty()) {
            l->send(run, llm_chunk_atom_v, agent, l->state);
            l->state.clear();
          }
          l->delayed_send(l, std::chrono::milliseconds(300), tick_atom_v);
        },
        [l](caf::get_atom) {
          auto rest = std::move(l->state);
          l->quit(); // the step is over
          return rest;
        },
    };
  });
  st.listeners.push_back(listener);
  ++st.in_flight;
  const auto& cfg = st.config;
  auto timeout =
      std::chrono::seconds(cfg.value("step_timeout_s", st.opts.settings.request_timeout_s));
  turn.budget_ms = deadlines::inner(timeout).count(); // the step ends before we give up
  // The model is asked once the step's start is stored (with the record of the step before it,
  // `record_then_next`): a step never runs on one that is not recorded.
  save(self, {}, json::array({{{"event_type", "step_started"}, {"data", {{"agent", agent}}}}}),
       [self, agent, hand_off_to, listener, timeout, turn = std::move(turn)]() mutable {
         if (self->state.finishing) { // cancelled meanwhile: the step never starts
           --self->state.in_flight;
           return;
         }
         ask_agent(self, agent, hand_off_to, listener, timeout, std::move(turn));
       });
}

/// Step `agent`'s turn, once its start is stored (`step`).
void ask_agent(run_pointer self, const std::string& agent, const std::string& hand_off_to,
               const caf::actor& listener, std::chrono::seconds timeout, agent_turn turn) {
  auto& st = self->state;
  self->request(st.opts.agents, timeout, chat_atom_v, std::move(turn), listener)
      .then(
          [self, agent, listener, hand_off_to](const agent_reply& text) {
            // The reply is causally after every piece the listener got: take the rest first, so
            // output_delta events all come before step_completed.
            self->request(listener, std::chrono::seconds(5), caf::get_atom_v)
                .then(
                    [self, agent, text, hand_off_to](const std::string& rest) {
                      on_step_done(self, agent, text, rest, hand_off_to);
                    },
                    [self, agent, text, hand_off_to](caf::error&) {
                      on_step_done(self, agent, text, "", hand_off_to);
                    });
          },
          [self, agent, listener, hand_off_to](caf::error& err) {
            auto& st = self->state;
            --st.in_flight;
            self->send_exit(listener,
                            caf::exit_reason::user_shutdown); // not normal: that is ignored
            if (st.finishing)
              return;
            const auto& cfg = st.config;
            auto retries = cfg.value("retries", 0u);
            bool timed_out = err == caf::sec::request_timeout || err == errc::deadline_exceeded;
            if (st.attempts[agent]++ < retries) {
              log::info(component, "retrying step", {{"workflow_id", st.id}, {"agent", agent}});
              return step(self, agent, hand_off_to);
            }
            auto why = timed_out ? "step '" + agent + "' timed out after " +
                                       std::to_string(cfg.value(
                                           "step_timeout_s", st.opts.settings.request_timeout_s)) +
                                       " s"
                                 : "step '" + agent + "' failed: " + error_text(err);
            save(self, {},
                 json::array({{{"event_type", "step_failed"},
                               {"data", {{"agent", agent}, {"error", why}}}}}),
                 [self, why] { finish(self, "failed", why); });
          });
}

/// Asks each agent's actor in this execution how many messages wait for it; `then` gets the
/// counts (an agent that cannot answer counts as having none).
void query_inboxes(run_pointer self, std::function<void(std::map<std::string, uint32_t>)> then) {
  auto& st = self->state;
  auto agents = st.agents();
  auto counts = std::make_shared<std::map<std::string, uint32_t>>();
  auto left = std::make_shared<size_t>(agents.size());
  auto one = [counts, left, then](const std::string& agent, uint32_t n) {
    (*counts)[agent] = n;
    if (--*left == 0)
      then(*counts);
  };
  auto t = deadlines::db(st.opts.settings.db_timeout_ms);
  for (const auto& agent : agents)
    self->request(st.opts.agents, t, agent_peer_atom_v, agent, st.id)
        .then(
            [self, agent, one, t](const caf::actor& peer) {
              self->request(caf::actor_cast<workflow_agent_actor>(peer), t, inbox_atom_v)
                  .then([agent, one](uint32_t n) { one(agent, n); },
                        [agent, one](caf::error&) { one(agent, 0); });
            },
            [agent, one](caf::error&) { one(agent, 0); });
}

void run_next(run_pointer self) {
  auto& st = self->state;
  if (st.finishing || st.state != "running" || st.in_flight > 0)
    return;
  auto agents = st.agents();
  auto type = st.type();
  const auto& cfg = st.config;
  if (type == "sequential" || type == "multi_agent") {
    if (st.path.size() >= agents.size())
      return finish(self, "completed");
    return step(self, agents[st.path.size()]);
  }
  if (type == "parallel") {
    std::vector<std::string> pending;
    for (const auto& a : agents)
      if (!st.results.contains(a))
        pending.push_back(a);
    if (pending.empty())
      return finish(self, "completed");
    for (const auto& a : pending)
      step(self, a);
    return;
  }
  if (type == "conditional") {
    if (st.path.empty())
      return step(self, agents.front());
    auto last = st.path.back().get<std::string>();
    auto rules = cfg.value("routing_rules", json::object());
    // memory.<key>: what the agents stored with `remember`, and each step's outcome (the same
    // values the steps wrote under their agent's key).
    json memory = st.agent_memory;
    for (auto& [agent, r] : st.results.items())
      memory[agent] = {{"summary", r.value("content", std::string{}).substr(0, 500)},
                       {"metadata", r.value("metadata", json::object())}};
    auto next = next_agent_of(rules, last, st.path.size() == 1, st.results[last], memory);
    if (next == "end")
      return finish(self, "completed");
    auto max_steps = cfg.value("max_steps", 10u);
    if (st.path.size() >= max_steps)
      return finish(self, "failed",
                    "max_steps (" + std::to_string(max_steps) +
                        ") reached before the routing ended");
    return step(self, next);
  }
  // collaborative: the agents take turns on the shared task; each hands off to the next.
  auto rounds = cfg.value("max_rounds", 5u);
  auto steps = st.path.size();
  if (steps > 0) {
    auto last = st.path.back().get<std::string>();
    auto content = st.results[last].value("content", std::string{});
    if (content.find("[FINAL]") != std::string::npos) {
      st.results["collaboration"] = {{"rounds", (steps + agents.size() - 1) / agents.size()},
                                     {"final_by", last}};
      return finish(self, "completed");
    }
  }
  if (steps >= rounds * agents.size()) {
    st.results["collaboration"] = {{"rounds", rounds}, {"stopped_at_max_rounds", true}};
    return finish(self, "completed");
  }
  auto after = [agents](const std::string& agent) {
    auto at = std::find(agents.begin(), agents.end(), agent) - agents.begin();
    return agents[static_cast<size_t>(at + 1) % agents.size()];
  };
  // The step that uses up max_rounds hands off to nobody: no one would take it.
  auto hand_off = [after, last = steps + 1 >= rounds * agents.size()](const std::string& agent) {
    return last ? std::string{} : after(agent);
  };
  if (steps == 0)
    return step(self, agents.front(), hand_off(agents.front()));
  // The next agent with work: the first, in turn order after the last one, that has messages
  // waiting (each agent hands off to the next unless it addressed others or declared final).
  ++st.in_flight; // nothing else starts while we ask
  query_inboxes(self, [self, after, hand_off](std::map<std::string, uint32_t> counts) {
    auto& st = self->state;
    --st.in_flight;
    if (st.finishing || st.state != "running")
      return;
    auto agents = st.agents();
    auto candidate = st.path.back().get<std::string>();
    for (size_t i = 0; i < agents.size(); ++i) {
      candidate = after(candidate);
      if (counts[candidate] > 0)
        return step(self, candidate, hand_off(candidate));
    }
    auto steps = st.path.size();
    st.results["collaboration"] = {{"rounds", (steps + agents.size() - 1) / agents.size()},
                                   {"no_work_left", true}};
    finish(self, "completed");
  });
}

/// Looks at the approvals the waiting steps raised; a step whose approvals are all decided
/// (or expired) runs again with them. While any step waits, looks again every second.
void check_approvals(run_pointer self) {
  auto& st = self->state;
  if (st.finishing || st.awaiting.empty() || st.approval_check_running)
    return;
  approval_filter f; // as an admin: this run's approvals, whoever owns them
  f.workflow_id = st.id;
  f.limit = 500;
  st.approval_check_running = true;
  // One timer at a time: a notice or a resume meanwhile looks at once without arming another.
  auto again = [self] {
    auto& st = self->state;
    if (st.approval_timer != 0)
      return;
    st.approval_timer = ++st.approval_timers;
    self->delayed_send(self, std::chrono::seconds(1), wf_approval_atom_v,
                       "tick:" + std::to_string(st.approval_timer));
  };
  self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), appr_list_atom_v, f)
      .then(
          [self, again](approval_page& page) {
            auto& st = self->state;
            st.approval_check_running = false;
            if (st.finishing)
              return;
            std::map<std::string, const approval*> by_id;
            for (const auto& a : page.items)
              by_id[a.id] = &a;
            json events = json::array();
            std::vector<std::pair<std::string, std::string>> ready; // agent, hand_off_to
            for (auto it = st.awaiting.begin(); it != st.awaiting.end();) {
              json decided = json::array();
              bool open = false;
              for (const auto& id : it->second.ids) {
                auto found = by_id.find(id);
                if (found == by_id.end() || !found->second->decided()) {
                  open = true;
                  continue;
                }
                const auto& a = *found->second;
                // Approved and still running (its result is stored when it ends): the step
                // waits for the real result, for at most two minutes of looks.
                if (a.state == "approved" && a.result.empty() &&
                    ++st.unresolved_looks[a.id] < 120) {
                  open = true;
                  continue;
                }
                // For the model's context (an edge): the stored jsonb, as it was stored.
                decided.push_back(
                    {{"approval_id", a.id},
                     {"tool", a.tool},
                     {"arguments", parse_json(a.arguments)},
                     {"state", a.state},
                     {"note", a.note.empty() ? json(nullptr) : json(a.note)},
                     {"result", a.result.empty() ? json(nullptr) : parse_json(a.result)}});
              }
              if (open) {
                ++it;
                continue;
              }
              for (const auto& d : decided)
                events.push_back({{"event_type", "approval_resolved"},
                                  {"data",
                                   {{"agent", it->first},
                                    {"approval_id", d["approval_id"]},
                                    {"state", d["state"]}}}});
              st.decided[it->first] = std::move(decided);
              ready.emplace_back(it->first, it->second.hand_off_to);
              it = st.awaiting.erase(it);
            }
            if (!st.awaiting.empty())
              again();
            if (ready.empty())
              return;
            if (st.awaiting.empty() && st.state == "awaiting_approval") {
              st.state = "running";
              events.push_back({{"event_type", "state_changed"}, {"data", {{"state", "running"}}}});
            }
            save(self, {}, events, [self, ready] {
              auto& st = self->state;
              // Paused meanwhile: the steps run again when the run is resumed.
              if (st.state != "running" && st.state != "awaiting_approval") {
                st.rerun_on_resume.insert(st.rerun_on_resume.end(), ready.begin(), ready.end());
                return;
              }
              for (const auto& [agent, hand_off_to] : ready)
                step(self, agent, hand_off_to);
            });
          },
          [self, again](caf::error& err) {
            self->state.approval_check_running = false;
            log::warn(component, "approvals not read; looking again",
                      {{"workflow_id", self->state.id}, {"error", caf::to_string(err)}});
            again();
          });
}

using string_promise = caf::typed_response_promise<std::string>;
using message_promise = caf::typed_response_promise<agent_message>;

/// pause, resume or cancel (API.md §7), answered through `rp` with the execution.
void on_action(run_pointer self, const std::string& action, string_promise rp) {
  auto& st = self->state;
  auto conflict = [&](const std::string& why) {
    rp.deliver(caf::make_error(errc::failed_precondition, why));
  };
  auto reply = [self, rp]() mutable { rp.deliver(self->state.execution().dump()); };
  if (st.finishing || terminal(st.state)) {
    if (action == "cancel" && st.state == "cancelled")
      return reply();
    return conflict("cannot " + action + " a " + st.state + " workflow");
  }
  if (action == "pause") {
    if (st.state == "paused")
      return reply();
    st.state = "paused";
    return save(self, {},
                json::array({{{"event_type", "state_changed"}, {"data", {{"state", "paused"}}}}}),
                reply);
  }
  if (action == "resume") {
    if (st.state == "running" || st.state == "awaiting_approval")
      return reply();
    if (st.state != "paused")
      return conflict("cannot resume a " + st.state + " workflow");
    if (!st.awaiting.empty()) {
      // Still waiting for people: back to waiting, and the decisions are looked at again.
      st.state = "awaiting_approval";
      return save(self, {},
                  json::array({{{"event_type", "state_changed"},
                                {"data", {{"state", "awaiting_approval"}}}}}),
                  [self, reply]() mutable {
                    reply();
                    check_approvals(self);
                  });
    }
    st.state = "running";
    return save(self, {},
                json::array({{{"event_type", "state_changed"}, {"data", {{"state", "running"}}}}}),
                [self, reply]() mutable {
                  reply();
                  // Steps decided while paused run first: a collaborative run would otherwise
                  // pick its next agent by inbox and could skip the one that waited.
                  auto again = std::move(self->state.rerun_on_resume);
                  self->state.rerun_on_resume.clear();
                  if (again.empty())
                    return run_next(self);
                  for (const auto& [agent, hand_off_to] : again)
                    step(self, agent, hand_off_to);
                });
  }
  // cancel: stops the step in progress too.
  st.waiters.emplace(st.next_waiter++, rp);
  finish(self, "cancelled");
}

/// Answers with the execution once it is terminal, or after `seconds`.
void on_wait(run_pointer self, uint32_t seconds, string_promise rp) {
  auto& st = self->state;
  if (terminal(st.state) && !st.finishing)
    return rp.deliver(st.execution().dump()), void();
  auto id = st.next_waiter++;
  st.waiters.emplace(id, rp);
  self->delayed_send(self, std::chrono::seconds(seconds), tick_atom_v, id);
}

/// A message posted over HTTP: stored first (answered with this row's own error, so one
/// client's bad row never fails another's post), then delivered to the target agent's actor.
void on_message(run_pointer self, outgoing_message out, message_promise rp) {
  auto& st = self->state;
  if (st.finishing || terminal(st.state))
    return rp.deliver(caf::make_error(errc::failed_precondition, "the workflow is " + st.state)),
           void();
  auto m = make_agent_message(std::move(out), st.id);
  auto t = deadlines::db(st.opts.settings.db_timeout_ms);
  auto failed = [self, rp, m](caf::error err) mutable {
    if (self->state.opts.mirror)
      self->send(self->state.opts.mirror, mirror_status_atom_v,
                 std::vector<std::string>{m.message_id}, std::string{"failed"});
    rp.deliver(
        caf::make_error(errc::unavailable, "the agent could not be reached: " + error_text(err)));
  };
  auto delivered = [self, rp, m]() mutable {
    m.status = "delivered";
    save(self, {},
         json::array({{{"event_type", "agent_message"},
                       {"data",
                        {{"from_agent", m.from_agent},
                         {"to_agent", m.to_agent},
                         {"message_type", m.message_type},
                         {"message_id", m.message_id},
                         {"status", "delivered"}}}}}));
    rp.deliver(m);
  };
  auto deliver = [self, m, t, failed, delivered]() mutable {
    self->request(self->state.opts.agents, t, agent_peer_atom_v, m.to_agent, self->state.id)
        .then(
            [self, m, t, failed, delivered](const caf::actor& peer) mutable {
              self->request(caf::actor_cast<workflow_agent_actor>(peer), t, amsg_atom_v, m)
                  .then(
                      [self, t, delivered](const std::string&) mutable {
                        if (!self->state.opts.mirror)
                          return delivered();
                        // The row is stored; this lets a read right after the 201 see it
                        // `delivered` too (a status the mirror keeps retrying if this fails).
                        self->request(self->state.opts.mirror, t, mirror_flush_atom_v)
                            .then([delivered](bool) mutable { delivered(); },
                                  [delivered](caf::error&) mutable { delivered(); });
                      },
                      [failed](caf::error& err) mutable { failed(err); });
            },
            [failed](caf::error& err) mutable { failed(err); });
  };
  if (!st.opts.mirror)
    return deliver();
  self->request(st.opts.mirror, t, mirror_store_atom_v, m)
      .then([deliver](bool) mutable { deliver(); },
            [self, rp, m](caf::error& err) mutable {
              // Not stored now: never delivered. A row the mirror still retries is recorded
              // `failed`, as the client was told.
              if (err != errc::invalid_argument)
                self->send(self->state.opts.mirror, mirror_status_atom_v,
                           std::vector<std::string>{m.message_id}, std::string{"failed"});
              rp.deliver(std::move(err));
            });
}

/// Runs `f` now, or once the execution is loaded (requests that came while claiming).
template <class Reply>
caf::result<Reply>
when_ready(run_pointer self,
           std::function<void(run_pointer, caf::typed_response_promise<Reply>)> f) {
  auto rp = self->make_response_promise<Reply>();
  if (self->state.ready)
    f(self, rp);
  else
    self->state.deferred.emplace_back([rp](caf::error err) mutable { rp.deliver(std::move(err)); },
                                      [self, f, rp] { f(self, rp); });
  return rp;
}

/// The execution is loaded: answer what waited, then run from the last completed step.
void start_run(run_pointer self) {
  auto& st = self->state;
  st.ready = true;
  auto waiting = std::move(st.deferred);
  st.deferred.clear();
  for (auto& entry : waiting)
    entry.second();
  if (st.finishing)
    return; // a cancel that waited: its save ends the actor
  if (terminal(st.state))
    return stop(self);
  self->delayed_send<caf::message_priority::high>(
      self, std::chrono::seconds(std::max(1u, st.opts.lease_s / 3)), lease_atom_v);
  if (st.state == "paused")
    return; // resumed later by an action
  st.state = "running";
  record_then_next(
      self, {}, json::array({{{"event_type", "state_changed"}, {"data", {{"state", "running"}}}}}));
}

/// Not claimed or not loaded: what waited is told to retry, and the actor ends.
void abandon(run_pointer self, caf::error reason, const std::string& why) {
  for (auto& entry : self->state.deferred)
    entry.first(caf::make_error(errc::failed_precondition, why));
  self->state.deferred.clear();
  stop(self, std::move(reason));
}

run_actor::behavior_type run_fn(run_pointer self, std::string id, manager_options opts) {
  auto& st = self->state;
  st.id = std::move(id);
  st.opts = std::move(opts);
  // Stopped from outside (shutdown): answer waiters with the state as stored; the execution
  // is resumed later from its last completed step.
  self->set_exit_handler([self](caf::exit_msg& em) {
    answer_waiters(self);
    abandon(self, em.reason, "the server is shutting down; retry shortly");
  });
  // Claim, load (with the agents' memory writes, which survive a restart), then run from the
  // last completed step. Requests meanwhile wait in `deferred` (see `when_ready`).
  // A fresh epoch even when this node holds the lease: an earlier run of it (stopped on an
  // error, see `retry_later`) may still have a save queued, which must then be refused.
  run_claim claim{st.id, st.opts.node_id, static_cast<int32_t>(st.opts.lease_s), true};
  auto t = deadlines::db(st.opts.settings.db_timeout_ms);
  self->request(st.opts.db, t, run_claim_atom_v, std::move(claim))
      .then(
          [self, t](int64_t epoch) {
            auto& st = self->state;
            st.epoch = epoch;
            self->request(st.opts.db, t, run_load_atom_v, st.id)
                .then(
                    [self, t](run_row& row) {
                      auto& st = self->state;
                      st.row = std::move(row);
                      // The jsonb columns and the document, rendered by our SQL.
                      st.doc = parse_json_or_throw(st.row.execution);
                      st.config = parse_json_or_throw(st.row.workflow_config);
                      st.input = parse_json_or_throw(st.row.input_data);
                      st.path = parse_json_or_throw(st.row.execution_path);
                      st.results = parse_json_or_throw(st.row.results);
                      if (!st.config.is_object())
                        st.config = json::object();
                      if (!st.input.is_object())
                        st.input = json::object();
                      if (!st.path.is_array())
                        st.path = json::array();
                      if (!st.results.is_object())
                        st.results = json::object();
                      st.state = st.row.current_state.empty() ? "pending" : st.row.current_state;
                      // Only the server-side fields stay: the rest lives in `doc`, `path`...
                      st.row.execution.clear();
                      st.row.execution_path.clear();
                      st.row.results.clear();
                      st.row.workflow_config.clear();
                      st.row.input_data.clear();
                      if (terminal(st.state))
                        return start_run(self);
                      self->request(st.opts.db, t, mem_list_atom_v, st.id, std::string{})
                          .then(
                              [self](const std::vector<memory_entry>& entries) {
                                for (const auto& e : entries)
                                  if (e.scope == "workflow")
                                    self->state.agent_memory[e.key] =
                                        parse_json_or_throw(e.value); // stored jsonb: ours
                                start_run(self);
                              },
                              [self](caf::error& err) {
                                log::warn(component,
                                          "workflow memory not loaded; running without it",
                                          {{"workflow_id", self->state.id},
                                           {"error", caf::to_string(err)}});
                                start_run(self);
                              });
                    },
                    [self](caf::error& err) {
                      log::warn(component, "workflow not loaded",
                                {{"workflow_id", self->state.id}, {"error", caf::to_string(err)}});
                      abandon(self, err, "the workflow is being resumed; retry shortly");
                    });
          },
          [self](caf::error& err) {
            log::info(component, "workflow not claimed",
                      {{"workflow_id", self->state.id}, {"reason", caf::to_string(err)}});
            // Another node runs it (ends quietly), or the database is away (the manager tries
            // again shortly; see `retry_later`).
            abandon(self, err == errc::aborted ? caf::error{} : err,
                    "the workflow is being resumed; retry shortly");
          });
  return {
      [self](wf_action_atom, const std::string&, const std::string& action) {
        return when_ready<std::string>(self, [action](run_pointer self, string_promise rp) {
          on_action(self, action, std::move(rp));
        });
      },
      [self](wf_wait_atom, const std::string&, uint32_t seconds) {
        return when_ready<std::string>(self, [seconds](run_pointer self, string_promise rp) {
          on_wait(self, seconds, std::move(rp));
        });
      },
      [self](wf_msg_atom, const std::string&, const outgoing_message& out) {
        return when_ready<agent_message>(self, [out](run_pointer self, message_promise rp) {
          on_message(self, out, std::move(rp));
        });
      },
      [self](wf_approval_atom, const std::string& what) {
        auto& st = self->state;
        if (what.rfind("tick:", 0) == 0) {
          if (what != "tick:" + std::to_string(st.approval_timer))
            return; // an older timer's tick
          st.approval_timer = 0;
        }
        if (st.ready)
          check_approvals(self);
      },
      [self](llm_chunk_atom, const std::string& agent, const std::string& text) {
        if (self->state.finishing)
          return;
        save(self, {},
             json::array(
                 {{{"event_type", "output_delta"}, {"data", {{"agent", agent}, {"text", text}}}}}));
      },
      [self](lease_atom) {
        auto& st = self->state;
        run_claim claim{st.id, st.opts.node_id, static_cast<int32_t>(st.opts.lease_s), false};
        self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), run_claim_atom_v,
                      std::move(claim))
            .then([](int64_t) {},
                  [self](caf::error& err) {
                    if (err == errc::aborted)
                      stop(self); // lost to another node: stop without writing
                  });
        // Urgent: a renewal must not wait behind a queue of output deltas and their saves, or a
        // long streamed step loses its lease to a resume of itself.
        self->delayed_send<caf::message_priority::high>(
            self, std::chrono::seconds(std::max(1u, st.opts.lease_s / 3)), lease_atom_v);
      },
      [self](tick_atom, uint64_t waiter) {
        auto& st = self->state;
        auto it = st.waiters.find(waiter);
        if (it == st.waiters.end())
          return;
        it->second.deliver(st.execution().dump());
        st.waiters.erase(it);
      },
  };
}

struct manager_state {
  manager_options opts;
  std::map<std::string, run_actor> runs;
  std::map<caf::actor_addr, std::string> ids;
  /// Requests forwarded to other nodes, by lease owner: how to fail each if the node is lost.
  std::map<std::string, std::map<uint64_t, std::function<void()>>> forwarded;
  uint64_t next_forward = 0;
  bool scan_timer_armed = false;
  /// Executions whose run stopped on an error here, by id: how many quick re-runs so far, and
  /// when the last was scheduled (a minute later the count starts again).
  std::map<std::string, std::pair<int, std::chrono::steady_clock::time_point>> retries;
  static inline const char* name = "pixelcraft.workflow-manager";
};

/// `wf_scan_atom`: look for executions to resume now; `wf_scan_atom, true`: the timer's.
using manager_impl = workflow_manager_actor::extend<caf::reacts_to<wf_scan_atom>,
                                                    caf::reacts_to<wf_scan_atom, bool>>;
using manager_pointer = manager_impl::stateful_pointer<manager_state>;

void ensure_running(manager_pointer self, const std::string& id);

/// Claims executions to resume, up to the free capacity; keeps one timer for the next look.
void scan(manager_pointer self) {
  auto& st = self->state;
  if (!st.opts.run_here)
    return;
  auto room = st.opts.capacity > st.runs.size() ? st.opts.capacity - st.runs.size() : 0;
  if (room > 0)
    self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), run_resumable_atom_v,
                  static_cast<int32_t>(std::min<size_t>(room, 100000)))
        .then(
            [self](const std::vector<std::string>& ids) {
              for (const auto& id : ids) {
                if (!self->state.runs.count(id))
                  log::info(component, "resuming workflow", {{"workflow_id", id}});
                ensure_running(self, id);
              }
            },
            [](caf::error& err) {
              log::debug(component, "resume scan failed", {{"error", caf::to_string(err)}});
            });
  if (!st.scan_timer_armed) {
    st.scan_timer_armed = true;
    self->delayed_send(self, std::chrono::seconds(st.opts.scan_s), wf_scan_atom_v, true);
  }
}

void ensure_running(manager_pointer self, const std::string& id) {
  auto& st = self->state;
  if (st.runs.count(id) || !st.opts.run_here)
    return;
  auto run = self->spawn<caf::monitored + caf::linked>(run_fn, id, st.opts);
  st.runs.emplace(id, run);
  st.ids.emplace(run.address(), id);
}

/// A run that stopped on an error (a save, load or claim that failed: the database away, a
/// statement timed out) still holds its lease, and no scan would resume the execution before the
/// lease expires (`lease_s`): run it again here after 1, 2, 4, 8 s (counted again after a quiet
/// minute), then leave it to the scans. The new run's claim takes a fresh epoch, so a save the
/// old run still has queued is refused; it goes on from the last recorded step. Not after a
/// normal end, a lease lost to another node (`errc::aborted`) or a shutdown.
void retry_later(manager_pointer self, const std::string& id, const caf::error& reason) {
  auto& st = self->state;
  if (!reason || reason == errc::aborted || reason.category() == caf::atom("exit")) {
    st.retries.erase(id);
    return;
  }
  auto now = std::chrono::steady_clock::now();
  auto& [n, last] = st.retries[id];
  if (n > 0 && now - last > std::chrono::minutes(1))
    n = 0;
  if (n >= 4) {
    st.retries.erase(id);
    return;
  }
  last = now;
  log::info(component, "workflow run stopped on an error; running it again shortly",
            {{"workflow_id", id}, {"error", caf::to_string(reason)}});
  self->delayed_send(self, std::chrono::seconds(1 << n++), wf_run_atom_v, id);
}

/// Whether the current request came from another node (a peer's node agent delegates it as
/// it came, so its sender is on the peer's node).
bool from_peer(manager_pointer self) {
  auto& sender = self->current_sender();
  return sender && sender->node() != self->node();
}

/// Answers a request for execution `id`, which does not run here: `remote(manager, done)`
/// when another node holds its lease and the cluster has a link to it (`done` must be called
/// when the forwarded request ends, so a lost node fails it at once), else `here(row)` with
/// the stored row from the database.
template <class T, class Remote, class Here>
caf::result<T> elsewhere(manager_pointer self, const std::string& id, Remote remote, Here here) {
  auto& st = self->state;
  auto rp = self->make_response_promise<T>();
  auto db_t = deadlines::db(st.opts.settings.db_timeout_ms);
  bool may_forward = st.opts.cluster && !from_peer(self);
  self->request(st.opts.db, db_t, run_load_atom_v, id)
      .then(
          [self, rp, remote, here, may_forward, db_t](run_row& row) mutable {
            auto owner = row.lease_owner;
            if (!may_forward || owner.empty() || owner == self->state.opts.node_id)
              return here(row, rp);
            self->request(self->state.opts.cluster, db_t, owner_atom_v, owner)
                .then(
                    [self, rp, remote, owner](workflow_manager_actor& mgr) mutable {
                      // Backpressure (CAF has none across nodes): a bounded window per peer.
                      if (self->state.forwarded[owner].size() >= max_requests_per_peer) {
                        rp.deliver(caf::make_error(errc::unavailable,
                                                   "the node running the workflow is busy; "
                                                   "retry shortly"));
                        return;
                      }
                      auto key = self->state.next_forward++;
                      self->state.forwarded[owner][key] = [rp]() mutable {
                        rp.deliver(caf::make_error(errc::unavailable,
                                                   "the node running the workflow was lost; "
                                                   "it resumes elsewhere, retry shortly"));
                      };
                      remote(mgr, rp, [self, owner, key] {
                        auto it = self->state.forwarded.find(owner);
                        if (it != self->state.forwarded.end())
                          it->second.erase(key);
                      });
                    },
                    [rp, row, here](caf::error&) mutable { here(row, rp); });
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

/// The `remote` of `elsewhere`: asks the other node's manager the same request (`xs`) with
/// timeout `t` and answers with its reply.
template <class T, class... Ts>
auto forward(manager_pointer self, std::chrono::milliseconds t, Ts... xs) {
  return
      [self, t, xs...](workflow_manager_actor& mgr, caf::typed_response_promise<T>& rp, auto done) {
        self->request(mgr, t, xs...)
            .then(
                [rp, done](T& reply) mutable {
                  done();
                  rp.deliver(std::move(reply));
                },
                [rp, done](caf::error& err) mutable {
                  done();
                  rp.deliver(std::move(err));
                });
      };
}

manager_impl::behavior_type manager_fn(manager_pointer self, manager_options opts) {
  self->state.opts = std::move(opts);
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (!self->state.ids.count(em.source))
      self->quit(em.reason);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.ids.find(dm.source);
    if (it == st.ids.end())
      return;
    auto id = it->second;
    st.runs.erase(id);
    st.ids.erase(it);
    retry_later(self, id, dm.reason);
  });
  if (self->state.opts.run_here)
    self->send(self, wf_scan_atom_v);
  auto db_t = deadlines::db(self->state.opts.settings.db_timeout_ms);
  return {
      [self, db_t](wf_start_atom, run_spec& spec) -> caf::result<run_row> {
        auto rp = self->make_response_promise<run_row>();
        self->request(self->state.opts.db, db_t, run_new_atom_v, std::move(spec))
            .then(
                [self, rp, db_t](run_row& row) mutable {
                  auto id = row.workflow_id;
                  if (self->state.opts.run_here) {
                    ensure_running(self, id);
                  } else if (self->state.opts.cluster) {
                    // A gateway: the least loaded worker starts it now; without one, the
                    // workers' next scan claims it.
                    self->request(self->state.opts.cluster, db_t, place_atom_v)
                        .then(
                            [id](workflow_manager_actor& w) {
                              caf::anon_send(w, wf_run_atom_v, id);
                            },
                            [](caf::error&) {});
                  }
                  rp.deliver(std::move(row));
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [self](wf_action_atom a, const std::string& id,
             const std::string& action) -> caf::result<std::string> {
        auto& st = self->state;
        if (auto it = st.runs.find(id); it != st.runs.end())
          return self->delegate(it->second, a, id, action);
        auto t = deadlines::db(st.opts.settings.db_timeout_ms);
        // Not running here: another node runs it, or it is terminal (or between owners).
        return elsewhere<std::string>(
            self, id, forward<std::string>(self, t, a, id, action),
            [action](run_row& row, caf::typed_response_promise<std::string>& rp) {
              const auto& state = row.current_state;
              if ((action == "cancel" && state == "cancelled") ||
                  (action == "pause" && state == "paused")) {
                rp.deliver(std::move(row.execution));
                return;
              }
              rp.deliver(caf::make_error(errc::failed_precondition,
                                         terminal(state)
                                             ? "cannot " + action + " a " + state + " workflow"
                                             : "the workflow is being resumed; retry shortly"));
            });
      },
      [self](wf_wait_atom a, const std::string& id, uint32_t seconds) -> caf::result<std::string> {
        auto& st = self->state;
        if (auto it = st.runs.find(id); it != st.runs.end())
          return self->delegate(it->second, a, id, seconds);
        // The remote manager answers within `seconds`; its answer crosses one more hop.
        auto t = deadlines::db(st.opts.settings.db_timeout_ms) + std::chrono::seconds(seconds);
        return elsewhere<std::string>(
            self, id, forward<std::string>(self, t, a, id, seconds),
            [](run_row& row, caf::typed_response_promise<std::string>& rp) {
              rp.deliver(std::move(row.execution));
            });
      },
      [self](wf_msg_atom a, const std::string& id,
             const outgoing_message& msg) -> caf::result<agent_message> {
        auto& st = self->state;
        if (auto it = st.runs.find(id); it != st.runs.end())
          return self->delegate(it->second, a, id, msg);
        auto t = deadlines::db(st.opts.settings.db_timeout_ms) * 2;
        return elsewhere<agent_message>(
            self, id, forward<agent_message>(self, t, a, id, msg),
            [](run_row&, caf::typed_response_promise<agent_message>& rp) {
              rp.deliver(caf::make_error(errc::failed_precondition, "the workflow is not running"));
            });
      },
      [self](wf_approval_atom a, const std::string& id) {
        auto& st = self->state;
        if (auto it = st.runs.find(id); it != st.runs.end())
          return self->send(it->second, a, id);
        if (!st.opts.cluster || from_peer(self))
          return;
        // A run elsewhere looks every second anyway; this only makes it look now.
        self->request(st.opts.db, deadlines::db(st.opts.settings.db_timeout_ms), run_load_atom_v,
                      id)
            .then(
                [self, a, id](const run_row& row) {
                  if (row.lease_owner.empty())
                    return;
                  self->request(self->state.opts.cluster,
                                deadlines::db(self->state.opts.settings.db_timeout_ms),
                                owner_atom_v, row.lease_owner)
                      .then([a, id](workflow_manager_actor& mgr) { caf::anon_send(mgr, a, id); },
                            [](caf::error&) {});
                },
                [](caf::error&) {});
      },
      [self](wf_run_atom, const std::string& id) {
        auto& st = self->state;
        if (!st.opts.run_here)
          return;
        if (id.empty())
          return self->send(self, wf_scan_atom_v);
        if (st.runs.size() < st.opts.capacity)
          ensure_running(self, id);
        else if (!st.runs.count(id))
          st.retries.erase(id); // dropped: the scans resume it once its lease expires
      },
      [self](release_atom, const std::string& owner) {
        auto it = self->state.forwarded.find(owner);
        if (it == self->state.forwarded.end())
          return;
        auto failers = std::move(it->second);
        self->state.forwarded.erase(it);
        for (auto& [key, fail] : failers)
          fail();
      },
      [self](peers_atom) {
        node_load load;
        load.executions = static_cast<int32_t>(self->state.runs.size());
        return load;
      },
      [self](wf_scan_atom) { scan(self); },
      [self](wf_scan_atom, bool) {
        self->state.scan_timer_armed = false;
        scan(self);
      },
  };
}

} // namespace

workflow_manager_actor spawn_workflow_manager(caf::actor_system& sys, manager_options opts) {
  return caf::actor_cast<workflow_manager_actor>(sys.spawn(manager_fn, std::move(opts)));
}

} // namespace pixelcraft::workflows
