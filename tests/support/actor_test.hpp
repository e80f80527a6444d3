#pragma once
/// Actor tests on CAF's test coordinator (STYLE.md §8): the configuration, a fixture, and the
/// database stand-in's boilerplate. Stand-ins live behind the same typed handles as the real
/// actors, so the actor under test cannot tell; no database, no sleeps, virtual time only.

#include "actors/db_actor.hpp"
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
      [ok](ping_atom) { return ok(); },
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
      [ok](db_op_atom, const std::string&, const std::string&) { return ok(); },
  };
}

} // namespace pixelcraft::test
