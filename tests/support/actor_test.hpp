#pragma once
/// Actor tests on CAF's test coordinator (STYLE.md §8): the configuration, a fixture, and the
/// database stand-in's boilerplate. Stand-ins live behind the same typed handles as the real
/// actors, so the actor under test cannot tell; no database, no sleeps, virtual time only.

#include "actors/db_actor.hpp"
#include "actors/fwd.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

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

/// A database stand-in's behaviour for `Handle` (`db_actor`, or an extension of it): `db_op`
/// serves `(db_op_atom, op, args)`, `extra` the extension's handlers; every other operation
/// answers `{}`.
template <class Handle = db_actor, class DbOp, class... Extra>
typename Handle::behavior_type db_standin_behavior(DbOp db_op, Extra... extra) {
  auto ok = [] { return std::string{"{}"}; };
  return {
      [ok](ping_atom) { return ok(); },
      [ok](lead_new_atom, const std::string&) { return ok(); },
      [ok](lead_get_atom, const std::string&) { return ok(); },
      [ok](lead_list_atom, const std::string&) { return ok(); },
      [ok](lead_upd_atom, const std::string&, const std::string&) { return ok(); },
      [ok](lead_anl_atom, const std::string&, const std::string&) { return ok(); },
      [ok](idem_begin_atom, const std::string&, const std::string&, const std::string&, int32_t) {
        return ok();
      },
      [ok](idem_end_atom, const std::string&, const std::string&, int32_t, const std::string&) {
        return ok();
      },
      [ok](idem_drop_atom, const std::string&, const std::string&) { return ok(); },
      std::move(db_op),
      std::move(extra)...,
  };
}

} // namespace pixelcraft::test
