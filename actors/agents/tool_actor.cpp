#include "actors/agents/tool_actor.hpp"

#include "actors/agents/tool_policy.hpp"
#include "actors/deadline.hpp"
#include "actors/errc.hpp"
#include "actors/ids.hpp"
#include "actors/json_limits.hpp"
#include "actors/json_schema.hpp"
#include "actors/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

namespace pixelcraft {

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
constexpr const char* component = "pixelcraft.tools";

/// Write/send calls counted against a budget.
struct budget_use {
  unsigned calls = 0;
  std::deque<clock_type::time_point> times; ///< anonymous clients: the calls of the last hour
  clock_type::time_point last;
};

constexpr size_t max_tracked_clients = 100000;
constexpr auto budget_window = std::chrono::hours(1);

struct tool_state {
  tool_options opts;
  std::unordered_map<std::string, budget_use> turns;
  std::unordered_map<std::string, budget_use> clients;
  /// Journaled calls running now, by key: the same call asked again meanwhile (twice in one
  /// answer, or by a retried step) waits for this one's result instead of running.
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<tool_result>>>
      journal_in_flight;
  clock_type::time_point last_sweep = clock_type::now();
  static inline const char* name = "pixelcraft.tools";
};

using tool_pointer = tool_actor::stateful_pointer<tool_state>;

/// One running tool call.
struct exec {
  std::string tool;
  json args;
  std::string agent;
  std::string conversation_id;
  std::string execution_id;
  std::string owner_id;    ///< of the workflow the call runs in (global memory is the owner's)
  std::string approval_id; ///< set: a person approved this call; its result is stored there
  std::optional<journal_call> journal; ///< set: a workflow call, recorded in the step journal
  bool resend_safe = false; ///< a journaled call the vendor cannot duplicate when sent again
  clock_type::time_point started = clock_type::now();
  caf::typed_response_promise<tool_result> rp;
};

using exec_ptr = std::shared_ptr<exec>;

/// The reply for a result object this actor made (or its journal recorded).
tool_result result_of(const std::string& tool, const json& result) {
  tool_result out;
  out.content = result.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!result.is_object())
    return out;
  out.success = result.value("success", false) == true;
  if (result.value("pending", false) == true)
    out.pending_approval = string_or(result, "approval_id");
  if (tool == "remember" && out.success) {
    out.memory_key = string_or(result, "key");
    out.memory_scope = string_or(result, "scope");
    if (auto it = result.find("version"); it != result.end() && it->is_number_integer())
      out.memory_version = it->get<int64_t>();
  }
  return out;
}

/// Ends a call: one agent_logs row, then the reply.
void done(tool_pointer self, const exec_ptr& e, const json& result, const std::string& status,
          const std::string& error = {}) {
  auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - e->started).count();
  auto reply = result_of(e->tool, result);
  agent_log_entry row;
  row.agent_type = e->agent;
  row.action = "tool_execution:" + e->tool;
  row.conversation_id = e->conversation_id;
  row.input_data = json{{"arguments", e->args}, {"execution_id", e->execution_id}}.dump();
  row.output_data = reply.content;
  row.execution_time_ms = ms;
  row.status = status;
  row.error_message = error;
  self->request(self->state.opts.db, deadlines::db(self->state.opts.settings.db_timeout_ms),
                log_add_atom_v, std::move(row))
      .then([](bool) {},
            [](caf::error& err) {
              log::warn(component, "tool log not written", {{"error", caf::to_string(err)}});
            });
  log::info(component, "tool executed",
            {{"tool", e->tool}, {"agent", e->agent}, {"status", status}, {"latency_ms", ms}});
  if (e->journal) {
    // The step may go on only once the journal knows the call ran: a step that runs again
    // (a crash, a decision) must find it. A call that timed out may have reached the vendor:
    // unless sending it again is safe, it is `outcome_unknown`, never silently resent.
    auto entry = *e->journal;
    entry.status = status == "success"                      ? "done"
                   : status == "timeout" && !e->resend_safe ? "outcome_unknown"
                                                            : "failed";
    entry.result = reply.content;
    auto key = e->execution_id;
    auto finish = [self, e, key, reply] {
      e->rp.deliver(reply);
      auto& waiting = self->state.journal_in_flight;
      if (auto it = waiting.find(key); it != waiting.end()) {
        for (auto& rp : it->second)
          rp.deliver(reply);
        waiting.erase(it);
      }
    };
    self->request(self->state.opts.db, deadlines::db(self->state.opts.settings.db_timeout_ms),
                  journal_end_atom_v, std::move(entry))
        .then([finish](bool) { finish(); },
              [e, finish](caf::error& err) {
                log::warn(component, "journal entry not completed",
                          {{"tool", e->tool}, {"error", caf::to_string(err)}});
                finish();
              });
    return;
  }
  if (e->approval_id.empty()) {
    e->rp.deliver(std::move(reply));
    return;
  }
  // An approved call: its result is part of the approval's record.
  self->request(self->state.opts.db, deadlines::db(self->state.opts.settings.db_timeout_ms),
                appr_result_atom_v, e->approval_id, reply.content)
      .then([e, reply](const approval&) { e->rp.deliver(reply); },
            [e, reply](caf::error& err) {
              log::warn(component, "approval result not stored",
                        {{"approval_id", e->approval_id}, {"error", caf::to_string(err)}});
              e->rp.deliver(reply);
            });
}

/// How long the tool waits for a vendor tool: longer than the vendor client can take.
std::chrono::milliseconds vendor_call_timeout(const tool_settings& cfg) {
  return vendor_tool_budget(cfg.vendor_timeout_ms, cfg.vendor_retries, cfg.vendor_backoff_ms);
}

/// A failed vendor call ends the tool with an error result.
void vendor_failed(tool_pointer self, const exec_ptr& e, const caf::error& err) {
  std::string text = "vendor call failed";
  if (!err.context().empty() && err.context().match_element<std::string>(0))
    text = err.context().get_as<std::string>(0);
  bool timeout = err == caf::sec::request_timeout || err == errc::deadline_exceeded;
  done(self, e, {{"success", false}, {"error", text}}, timeout ? "timeout" : "error", text);
}

bool configured(const tool_settings& cfg, const std::string& service) {
  if (service == "hubspot")
    return cfg.crm_configured;
  if (service == "sendgrid")
    return cfg.email_configured;
  return cfg.calendar_configured;
}

/// Runs an allowed vendor tool through the vendor client (integrations/vendor_tools.hpp has
/// its request shapes and steps).
void vendor_tool(tool_pointer self, const exec_ptr& e) {
  vendor_call call{e->tool, e->args.dump(-1, ' ', false, json::error_handler_t::replace),
                   e->execution_id};
  self->request(self->state.opts.vendors, vendor_call_timeout(self->state.opts.settings),
                vendor_atom_v, std::move(call))
      .then(
          [self, e](const vendor_outcome& out) {
            auto result = parse_json(out.result); // the vendor client's own rendering
            if (!result.is_object())
              result = json{{"success", false}, {"error", "malformed vendor result"}};
            done(self, e, std::move(result), out.status == "success" ? "success" : "error",
                 out.error);
          },
          [self, e](caf::error& err) { vendor_failed(self, e, err); });
}

const json& memory_tools() {
  static const json tools = parse_json_or_throw(R"([
    {"name": "remember", "description": "Store a value in shared memory so the other agents (and routing rules, as memory.<key>) can use it. Scope workflow (default): this workflow; global: every workflow of the same owner; system: every workflow (admin-owned workflows only).",
     "parameters": {"type": "object", "properties": {
       "key": {"type": "string", "minLength": 1, "maxLength": 100},
       "value": {},
       "scope": {"type": "string", "enum": ["workflow", "global", "system"]},
       "expected_version": {"type": "integer", "minimum": 1, "maximum": 9007199254740991},
       "ttl_s": {"type": "number", "minimum": 1, "maximum": 2592000}},
      "required": ["key", "value"], "additionalProperties": false}},
    {"name": "recall", "description": "Read a value from the workflow's shared memory.",
     "parameters": {"type": "object", "properties": {
       "key": {"type": "string", "minLength": 1, "maxLength": 100},
       "scope": {"type": "string", "enum": ["workflow", "global", "system"]}},
      "required": ["key"], "additionalProperties": false}}])");
  return tools;
}

void memory_tool(tool_pointer self, const exec_ptr& e, const std::string& workflow_id) {
  const auto& a = e->args;
  auto scope = a.value("scope", std::string{"workflow"});
  // `global` is global to the workflow's owner (API.md §7 v1.1); the database checks it.
  auto scope_id = scope == "workflow" ? workflow_id : scope == "global" ? e->owner_id : "";
  if (scope == "global" && scope_id.empty())
    return done(self, e,
                {{"success", false}, {"error", "global memory needs the workflow's owner"}},
                "error", "no owner");
  memory_key at{scope, scope_id, a["key"].get<std::string>(), workflow_id};
  auto timeout = deadlines::db(self->state.opts.settings.db_timeout_ms);
  if (e->tool == "recall") {
    self->request(self->state.opts.memory, timeout, mem_get_atom_v, std::move(at))
        .then(
            [self, e](const memory_entry& entry) {
              if (!entry.found())
                return done(self, e, {{"success", true}, {"found", false}}, "success");
              done(self, e,
                   {{"success", true},
                    {"found", true},
                    {"value", parse_json_or_throw(entry.value)}, // stored jsonb: ours
                    {"version", entry.version}},
                   "success");
            },
            [self, e](caf::error& err) { vendor_failed(self, e, err); });
    return;
  }
  // The arguments passed the tool's schema: `expected_version` is a whole number in
  // 1..2^53-1 (it may arrive as a float like 3.0) and `ttl_s` a number in 1..2592000.
  memory_write w;
  w.at = std::move(at);
  w.value = a["value"].dump();
  w.agent = e->agent;
  if (a.contains("expected_version")) {
    auto v = a["expected_version"].get<double>();
    if (!(v >= 1 && v <= 9007199254740991.0)) // never a silent unconditional write
      return done(self, e, {{"success", false}, {"error", "version_mismatch"}}, "error",
                  "version out of range");
    w.expected_version = static_cast<int64_t>(v);
  }
  if (a.contains("ttl_s"))
    w.ttl_s = a["ttl_s"].get<double>();
  self->request(self->state.opts.memory, timeout, mem_put_atom_v, std::move(w))
      .then(
          [self, e](const memory_entry& entry) {
            done(self, e,
                 {{"success", true},
                  {"key", entry.key},
                  {"scope", entry.scope},
                  {"version", entry.version}},
                 "success");
          },
          [self, e](caf::error& err) {
            if (err == errc::failed_precondition)
              return done(self, e, {{"success", false}, {"error", "version_mismatch"}}, "error",
                          "version mismatch");
            if (err == errc::permission_denied)
              return done(self, e, {{"success", false}, {"error", "permission_denied"}}, "error",
                          "memory scope not writable by this workflow");
            vendor_failed(self, e, err);
          });
}

/// The vendor tools, each with the service it calls (the configuration check and the resend
/// rule); integrations/vendor_tools.hpp runs them.
const std::map<std::string, std::string>& vendor_services() {
  static const std::map<std::string, std::string> table = {
      {"create_project_lead", "hubspot"},
      {"create_marketing_lead", "hubspot"},
      {"sync_lead_to_crm", "hubspot"},
      {"send_marketing_proposal", "sendgrid"},
      {"send_qualification_notification", "sendgrid"},
      {"schedule_strategy_session", "google_calendar"},
      {"schedule_technical_consultation", "google_calendar"},
      {"schedule_qualification_call", "google_calendar"},
      {"reschedule_meeting", "google_calendar"},
      {"cancel_meeting", "google_calendar"},
  };
  return table;
}

/// Forgets turns and clients idle for an hour; past `max_tracked_clients`, the clients idle
/// longest go first.
void sweep_budgets(tool_state& st, clock_type::time_point now) {
  if (now - st.last_sweep < std::chrono::minutes(1) && st.clients.size() <= max_tracked_clients)
    return;
  st.last_sweep = now;
  for (auto* table : {&st.turns, &st.clients})
    for (auto it = table->begin(); it != table->end();)
      it = now - it->second.last > budget_window ? table->erase(it) : std::next(it);
  if (st.clients.size() <= max_tracked_clients)
    return;
  std::vector<clock_type::time_point> last;
  last.reserve(st.clients.size());
  for (const auto& [_, use] : st.clients)
    last.push_back(use.last);
  auto cut = last.begin() + static_cast<std::ptrdiff_t>(last.size() / 10);
  std::nth_element(last.begin(), cut, last.end());
  for (auto it = st.clients.begin(); it != st.clients.end();)
    it = it->second.last <= *cut ? st.clients.erase(it) : std::next(it);
}

/// Takes one write/send call from the turn's and the anonymous client's budgets; false (and
/// nothing taken) when either is spent.
bool take_budget(tool_state& st, const tool_call& call) {
  auto now = clock_type::now();
  sweep_budgets(st, now);
  const auto& cfg = st.opts.settings;
  // A workflow step's budget holds across its reruns (a decision, a retry, a restart).
  auto turn_key = !call.workflow_id.empty()
                      ? call.workflow_id + ":" + std::to_string(call.step) + ":" + call.agent_type
                  : !call.turn_id.empty() ? call.turn_id
                                          : call.execution_id;
  auto& turn = st.turns[turn_key];
  turn.last = now;
  if (turn.calls >= cfg.budget_per_turn)
    return false;
  if (!call.client.empty()) {
    auto& client = st.clients[call.client];
    client.last = now;
    while (!client.times.empty() && now - client.times.front() > budget_window)
      client.times.pop_front();
    if (client.times.size() >= cfg.budget_anon_per_hour)
      return false;
    client.times.push_back(now);
  }
  ++turn.calls;
  return true;
}

/// The same call in the same step raises one approval and one journal entry.
std::string args_digest(const std::string& text) {
  return digest_hex(text);
}

/// Stores a held call as an approval and answers the model that it is pending.
void hold_for_approval(tool_pointer self, const exec_ptr& e, const tool_call& call,
                       tool_effect effect, const std::string& reason) {
  const auto& cfg = self->state.opts.settings;
  approval_request req;
  req.tool = e->tool;
  req.effect = to_string(effect);
  req.agent_type = e->agent;
  req.arguments = e->args.dump();
  req.reason = reason;
  req.workflow_id = call.workflow_id;
  req.conversation_id = call.conversation_id;
  req.step = call.step;
  req.owner_id = call.owner_id;
  req.ttl_s = static_cast<int32_t>(std::min<unsigned>(cfg.approval_ttl_s, INT32_MAX));
  // The same call raises one approval: per workflow step, or per conversation (a visitor who
  // asks again gets the pending approval, or its decision, not a second request).
  if (!call.workflow_id.empty()) {
    auto rest = ":" + std::to_string(call.step) + ":" + e->agent + ":" + e->tool + ":" +
                args_digest(req.arguments);
    req.dedupe_key = call.workflow_id + rest;
    if (!call.replay_of.empty())
      req.copy_from = call.replay_of + rest; // the replayed step's own approval decides
  } else if (!call.conversation_id.empty())
    req.dedupe_key = "chat:" + call.conversation_id + ":" + e->agent + ":" + e->tool + ":" +
                     args_digest(req.arguments);
  self->request(self->state.opts.db, deadlines::db(cfg.db_timeout_ms), appr_add_atom_v,
                std::move(req))
      .then(
          [self, e, reason](const approval& a) {
            // The same call again in the same step (it runs again after the decision, or after
            // a restart): the approval answers, and nothing runs a second time.
            if (a.state == "approved" && !a.result.empty()) {
              auto result = parse_json(a.result); // stored jsonb: an object the call returned
              if (result.is_object())
                return done(self, e, std::move(result), "success",
                            "approved earlier; its result is reused");
            }
            if (a.state == "approved")
              return done(self, e,
                          {{"success", false},
                           {"approval_id", a.id},
                           {"error", "approved; its result is not known yet"}},
                          "error", "approved earlier; result not recorded");
            if (a.state == "denied" || a.state == "expired")
              return done(
                  self, e,
                  {{"success", false},
                   {"skipped", true},
                   {"approval_id", a.id},
                   {"reason", a.state == "denied" ? "denied_by_person" : "approval_expired"},
                   {"note", a.note.empty() ? json(nullptr) : json(a.note)}},
                  "skipped", a.state == "denied" ? "denied by a person" : "approval expired");
            done(self, e,
                 {{"success", false},
                  {"pending", true},
                  {"approval_id", a.id},
                  {"state", a.state},
                  {"reason", reason},
                  {"message", "This action waits for a person at PixelCraft to approve it."}},
                 "skipped", "approval required: " + reason);
          },
          [self, e](caf::error& err) {
            if (err == errc::not_found) // a replay whose source raised no such approval
              return done(self, e,
                          {{"success", false},
                           {"error", "replay diverged: the replayed execution raised no "
                                     "approval for this call"}},
                          "error", "replay diverged");
            // Held and not recorded: it must not run either.
            done(self, e, {{"success", false}, {"error", "the approval could not be recorded"}},
                 "error", "approval not recorded: " + error_text(err));
          });
}

/// Whether a call that may have reached the vendor before a crash can be sent again without a
/// second effect: calendar writes use an event id derived from the call (the vendor refuses
/// a second insert), and a HubSpot contact is upserted by e-mail; a deal or an e-mail is not.
bool safe_to_resend(const std::string& service, const exec_ptr& e) {
  if (service == "google_calendar")
    return true;
  bool with_deal = e->tool != "sync_lead_to_crm" || e->args.contains("deal_name");
  return service == "hubspot" && !with_deal;
}

/// A workflow call to a vendor: recorded in the step journal before it runs. The same call in
/// the same step (the step runs again after a crash or a decision) is answered from the
/// journal; one that started and never finished is sent again only where that is safe (reads
/// always are), else it is `outcome_unknown` and a person decides whether to send it again. In
/// a replayed step the source execution's journal answers, and nothing is sent.
void run_journaled(tool_pointer self, const exec_ptr& e, const tool_call& call,
                   const std::string& service, tool_effect effect) {
  journal_call j;
  j.workflow_id = call.workflow_id;
  j.step = call.step;
  j.agent = e->agent;
  j.call_key = e->tool + ":" + args_digest(e->args.dump());
  j.name = e->tool;
  j.request = e->args.dump();
  j.source_workflow_id = call.replay_of;
  j.lease_epoch = call.lease_epoch;
  // Vendor idempotency keys (and calendar event ids) follow the call, not this attempt.
  e->execution_id =
      call.workflow_id + ":" + std::to_string(call.step) + ":" + j.agent + ":" + j.call_key;
  e->resend_safe = effect == tool_effect::read || safe_to_resend(service, e);
  auto& in_flight = self->state.journal_in_flight;
  if (auto it = in_flight.find(e->execution_id); it != in_flight.end()) {
    it->second.push_back(e->rp); // answered with the running call's result
    return;
  }
  in_flight.emplace(e->execution_id, std::vector<caf::typed_response_promise<tool_result>>{});
  // `e` is answered without running: so is every copy that waited meanwhile.
  auto release = [self](const exec_ptr& e, const json& result) {
    auto& waiting = self->state.journal_in_flight;
    auto it = waiting.find(e->execution_id);
    if (it == waiting.end())
      return;
    auto copies = std::move(it->second);
    waiting.erase(it);
    auto reply = result_of(e->tool, result);
    for (auto& rp : copies)
      rp.deliver(reply);
  };
  auto timeout = deadlines::db(self->state.opts.settings.db_timeout_ms);
  self->request(self->state.opts.db, timeout, journal_begin_atom_v, j)
      .then(
          [self, e, call, effect, j, release](const journal_entry& entry) mutable {
            bool replay = !call.replay_of.empty();
            if (replay &&
                (entry.status == "missing" || entry.status == "new" || entry.status == "started")) {
              // A replayed step reaches no vendor: a call its source never made diverges.
              auto result = json{{"success", false},
                                 {"error", "replay diverged: the replayed execution has no "
                                           "recorded outcome of this call"}};
              release(e, result);
              return done(self, e, result, "error", "replay diverged");
            }
            if (entry.status == "new" || (entry.status == "started" && e->resend_safe)) {
              e->journal = j;
              return vendor_tool(self, e);
            }
            if (entry.status == "done" || entry.status == "failed") {
              auto recorded = parse_json(entry.result); // the journal's jsonb: what it returned
              release(e, recorded);
              return done(self, e, std::move(recorded),
                          entry.status == "done" ? "success" : "error",
                          "ran before in this step; the journal's result is reused");
            }
            release(e, json{{"success", false}, {"pending", true}});
            // Started and never finished (a crash during the call): it may have reached the
            // vendor. Not sent again without a person.
            j.status = "outcome_unknown";
            j.result = json{{"success", false}, {"outcome_unknown", true}}.dump();
            self->request(self->state.opts.db,
                          deadlines::db(self->state.opts.settings.db_timeout_ms),
                          journal_end_atom_v, j)
                .then([](bool) {}, [](caf::error&) {});
            hold_for_approval(self, e, call, effect,
                              "the server stopped during this call, so it may already have "
                              "reached the recipient; send it again?");
          },
          [self, e, release](caf::error& err) {
            release(e, json{{"success", false}, {"error", "the call could not be journaled"}});
            // Unrecorded, it must not run: a later run of the step could not know of it.
            done(self, e, {{"success", false}, {"error", "the call could not be journaled"}},
                 "error", "journal unavailable: " + error_text(err));
          });
}

/// The checks every call passes, then the policy (unless a person approved it), then the run.
void check_and_run(tool_pointer self, const exec_ptr& e, const tool_call& call, bool approved) {
  auto& st = self->state;
  // 0. Built-in shared-memory tools, only inside a workflow.
  if (e->tool == "remember" || e->tool == "recall") {
    json schema;
    for (const auto& t : memory_tools())
      if (t["name"] == e->tool)
        schema = t["parameters"];
    auto problems = e->args.is_discarded() ? std::vector<std::string>{"$: not valid JSON"}
                                           : validate_json(schema.dump(), e->args.dump());
    if (call.workflow_id.empty() || !st.opts.memory) {
      done(self, e,
           {{"success", false}, {"error", "shared memory is only available inside a workflow"}},
           "error", "memory tool outside a workflow");
    } else if (!problems.empty()) {
      if (e->args.is_discarded())
        e->args = nullptr;
      done(self, e, {{"success", false}, {"error", "invalid arguments"}, {"problems", problems}},
           "error", "invalid arguments");
    } else {
      memory_tool(self, e, call.workflow_id);
    }
    return;
  }
  // 1. The tool must be one of the calling agent's tools.
  const auto* def = st.opts.catalog->find(e->agent);
  const auto* meta = def ? def->tool(e->tool) : nullptr;
  json schema;
  if (meta)
    for (const auto& t : parse_json_or_throw(def->tools_json))
      if (t["name"] == e->tool)
        schema = t["parameters"];
  auto service = vendor_services().find(e->tool);
  if (schema.is_null() || service == vendor_services().end()) {
    log::warn(component, "tool call refused: not allowed for this agent",
              {{"tool", e->tool}, {"agent", e->agent}});
    return done(
        self, e,
        {{"success", false}, {"error", "tool '" + e->tool + "' is not available to this agent"}},
        "error", "tool not allowed for this agent");
  }
  // 2. Arguments must match the schema; invalid ones are never executed.
  auto problems = e->args.is_discarded() ? std::vector<std::string>{"$: not valid JSON"}
                                         : validate_json(schema.dump(), e->args.dump());
  if (!problems.empty()) {
    if (e->args.is_discarded())
      e->args = nullptr;
    json list = problems;
    return done(self, e, {{"success", false}, {"error", "invalid arguments"}, {"problems", list}},
                "error", "invalid arguments");
  }
  // 3. The policy (API.md §12), before anything is sent.
  policy_verdict verdict{policy_verdict::run, {}};
  if (!approved) {
    policy_context pc;
    pc.agent = e->agent;
    pc.tool = e->tool;
    pc.effect = meta->effect;
    pc.policy = meta->policy;
    pc.lead = call.lead;
    pc.company_from = st.opts.settings.email_from;
    pc.company_notify_to = st.opts.settings.email_notify_to;
    verdict = decide(pc, e->args);
    if (verdict.what == policy_verdict::deny) {
      log::warn(component, "tool call refused by policy",
                {{"tool", e->tool}, {"agent", e->agent}, {"reason", verdict.reason}});
      return done(self, e, {{"success", false}, {"skipped", true}, {"reason", "denied_by_policy"}},
                  "skipped", "denied_by_policy: " + verdict.reason);
    }
  }
  // 4. A service that is not configured: skipped, never a pretend success. (A replayed call
  // reaches no vendor: its source's outcome answers, configured now or not.)
  if (call.replay_of.empty() && !configured(st.opts.settings, service->second))
    return done(self, e, {{"success", false}, {"skipped", true}, {"reason", "not_configured"}},
                "skipped", "not_configured");
  // 5. Budgets: calls that act on the world, approved or held, count.
  if (!approved && meta->effect != tool_effect::read && !take_budget(st, call)) {
    log::warn(component, "tool call refused: over budget",
              {{"tool", e->tool}, {"agent", e->agent}});
    return done(self, e, {{"success", false}, {"skipped", true}, {"reason", "budget"}}, "skipped",
                "budget: too many write/send calls for this turn or client");
  }
  if (verdict.what == policy_verdict::approval)
    return hold_for_approval(self, e, call, meta->effect, verdict.reason);
  if (approved || call.workflow_id.empty())
    return vendor_tool(self, e);
  run_journaled(self, e, call, service->second, meta->effect);
}

/// A call as the tool actor tracks it while it runs.
exec_ptr start_exec(tool_pointer self, const tool_call& call) {
  auto e = std::make_shared<exec>();
  e->rp = self->make_response_promise<tool_result>();
  e->tool = call.tool.empty() ? std::string{"unknown"} : call.tool;
  e->agent = call.agent_type.empty() ? std::string{"unknown"} : call.agent_type;
  e->conversation_id = call.conversation_id;
  e->execution_id = call.execution_id;
  e->owner_id = call.owner_id;
  e->args = parse_json(call.arguments); // model output: bounded, never throws
  if (e->args.is_string())              // OpenAI-style: arguments as a JSON string
    e->args = parse_json(e->args.get<std::string>());
  return e;
}

tool_actor::behavior_type tool_fn(tool_pointer self, tool_options opts) {
  self->state.opts = std::move(opts);
  return {
      [self](tool_atom, const tool_call& call) -> caf::result<tool_result> {
        auto e = start_exec(self, call);
        check_and_run(self, e, call, false);
        return e->rp;
      },
      [self](tool_approved_atom, const approved_call& ok) -> caf::result<tool_result> {
        auto e = start_exec(self, ok.call);
        e->approval_id = ok.approval_id;
        check_and_run(self, e, ok.call, true);
        return e->rp;
      },
  };
}

} // namespace

const std::string& memory_tools_json() {
  static const std::string text = memory_tools().dump();
  return text;
}

std::chrono::milliseconds approved_call_timeout(const tool_settings& s) {
  // The vendor tool (see `vendor_call_timeout`) and two database writes around it.
  return vendor_call_timeout(s) + 2 * deadlines::db(s.db_timeout_ms);
}

tool_actor spawn_tool_actor(caf::actor_system& sys, tool_options opts) {
  return sys.spawn(tool_fn, std::move(opts));
}

} // namespace pixelcraft
