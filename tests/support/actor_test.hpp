#pragma once
/// Actor tests on CAF's test coordinator (STYLE.md §8): the configuration, a fixture, and the
/// database stand-in's boilerplate. Stand-ins live behind the same typed handles as the real
/// actors, so the actor under test cannot tell; no database, no sleeps, virtual time only.

#include "actors/db_actor.hpp"
#include "actors/errc.hpp"
#include "actors/fwd.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

namespace pixelcraft::test {

/// Policy `testing`: `sys.scheduler()` is a `test_coordinator` the test drives.
struct coordinator_config : caf::actor_system_config {
  coordinator_config() {
    set("scheduler.policy", caf::atom("testing"));
    register_types(*this);
  }
};

class CoordinatorTest : public ::testing::Test {
protected:
  coordinator_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys, true};
  caf::scheduler::test_coordinator& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  /// Ends `handles` and lets them finish (the system's destructor waits for every actor).
  template <class... Handles> void end(const Handles&... handles) {
    (caf::anon_send_exit(handles, caf::exit_reason::user_shutdown), ...);
    sched.run();
  }
};

/// A database stand-in's behaviour: `overrides` first (the first handler that matches a message
/// serves it), then a default for every operation of `db_actor`: `{}`, or for the typed stores
/// an empty result (a new conversation, no messages, an absent memory key). Spawn it and
/// `caf::actor_cast` the actor to `db_actor` (or an extension of it): CAF matches the messages
/// at run time, so a test overrides only what it looks at.
template <class... Overrides> caf::behavior db_standin_behavior(Overrides... overrides) {
  auto ok = [] { return std::string{"{}"}; };
  return {
      std::move(overrides)...,
      [](ping_atom) { return db_ping{}; },
      [ok](lead_new_atom, const lead_input&) { return ok(); },
      [ok](lead_get_atom, const std::string&) { return ok(); },
      [ok](lead_list_atom, const lead_filter&) { return ok(); },
      [ok](lead_upd_atom, const std::string&, const lead_patch&) { return ok(); },
      [ok](lead_anl_atom, const std::string&, const std::string&) { return ok(); },
      [](idem_begin_atom, const std::string&, const std::string&, const std::string&, int32_t) {
        return idempotency_claim{"new", 0, {}};
      },
      [](idem_end_atom, const std::string&, const std::string&, int32_t, const std::string&) {
        return true;
      },
      [](idem_drop_atom, const std::string&, const std::string&) { return true; },
      // Conversations: a new one each time, nothing stored yet, every write accepted.
      [](conv_open_atom, const conversation_access& a, const std::string&) {
        return conversation_opened{a.conversation_id.empty() ? "c-new" : a.conversation_id, true};
      },
      [](conv_read_atom, const conversation_access&, int32_t, int32_t) {
        return std::string{R"({"messages":[],"total":0})"};
      },
      [](conv_recent_atom, const std::string&, int32_t) { return std::vector<chat_line>{}; },
      [](conv_delete_atom, const conversation_access&) { return int64_t{0}; },
      [](msg_add_atom, const new_chat_message&) { return true; },
      [](log_add_atom, const agent_log_entry&) { return true; },
      [](agent_metrics_atom) { return std::string{"[]"}; },
      [](mem_put_atom, const memory_write& w) {
        return memory_entry{w.at.key, w.value, w.at.scope, 1, w.agent, "2026-12-03T10:00:00Z", ""};
      },
      [](mem_get_atom, const memory_key&) { return memory_entry{}; },
      [](mem_list_atom, const std::string&, const std::string&) {
        return std::vector<memory_entry>{};
      },
      [](amsg_write_atom, const agent_message_batch&) { return true; },
      [](amsg_list_atom, const agent_message_filter&) { return agent_message_page{}; },
      // Workflow executions: claims granted, saves stored (numbered from 1), nothing to load.
      [](run_new_atom, const run_spec& s) {
        run_row r;
        r.workflow_id = "00000000-0000-4000-8000-000000000001";
        r.workflow_type = s.workflow_type;
        r.participating_agents = s.participating_agents;
        r.current_state = "pending";
        return r;
      },
      [ok](run_get_atom, const std::string&, const run_viewer&) { return ok(); },
      [](run_list_atom, const run_filter&) { return std::string{R"({"items":[],"total":0})"}; },
      [](run_load_atom, const std::string&) -> caf::result<run_row> {
        return caf::make_error(errc::not_found, "workflow not found");
      },
      [](run_claim_atom, const run_claim&) { return int64_t{1}; },
      [](run_resumable_atom, int32_t) { return std::vector<std::string>{}; },
      [seqs = std::make_shared<std::map<std::string, int64_t>>()](run_save_atom,
                                                                  const run_save& x) {
        run_saved out{"{}", x.events, {}};
        if (!x.memory_agent.empty()) { // as the store does: the write and its event
          out.memory = {x.memory_agent, x.memory_value,         "workflow", 1,
                        x.memory_agent, "2026-12-03T10:00:00Z", ""};
          auto at = std::min<size_t>(x.memory_event_at, out.events.size());
          out.events.insert(out.events.begin() + static_cast<std::ptrdiff_t>(at),
                            run_event{0, "memory_updated", "{}", {}});
        }
        for (auto& e : out.events)
          e.seq = ++(*seqs)[x.workflow_id]; // numbered per execution, as the store does
        return out;
      },
      [](run_events_atom, const std::string&, int64_t) { return std::vector<run_event>{}; },
  };
}

} // namespace pixelcraft::test
