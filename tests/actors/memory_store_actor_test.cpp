// The shared-memory store and its supervisor on CAF's test coordinator (STYLE.md §8), with an
// in-memory `shared_memory` table behind the typed database handle: no database, no sleeps.
#include "actors/errc.hpp"
#include "actors/memory/memory_store.hpp"
#include "tests/support/actor_test.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>

using namespace pixelcraft;
using nlohmann::json;

namespace {

/// `shared_memory` in memory: writes bump the version; counts the reads that reach it.
struct table_state {
  std::map<std::string, json> rows;
  int reads = 0;
  static inline const char* name = "test.memory-table";
};

db_actor::behavior_type table_standin(db_actor::stateful_pointer<table_state> self) {
  auto key = [](const json& a) {
    return a.value("scope", "") + "/" + a.value("scope_id", "") + "/" + a.value("key", "");
  };
  return test::db_standin_behavior(
      [self, key](db_op_atom, const std::string& op, const std::string& args) -> std::string {
        auto a = json::parse(args);
        auto& rows = self->state.rows;
        if (op == "mem_put") {
          auto& row = rows[key(a)];
          int version = row.is_object() ? row["version"].get<int>() + 1 : 1;
          row = {{"key", a["key"]},
                 {"value", a["value"]},
                 {"scope", a["scope"]},
                 {"version", version},
                 {"created_by_agent", a.value("agent", "")},
                 {"updated_at", "2026-12-03T10:00:00Z"},
                 {"expires_at", nullptr}};
          return row.dump();
        }
        if (op == "mem_get") {
          ++self->state.reads;
          auto it = rows.find(key(a));
          return it == rows.end() ? "null" : it->second.dump();
        }
        return "{}";
      });
}

class MemoryStoreTest : public test::CoordinatorTest {
protected:
  db_actor table;
  memory_actor memory;

  void SetUp() override {
    table = sys.spawn(table_standin);
    memory = spawn_memory_supervisor(sys, table, 5000);
    sched.run();
  }

  void TearDown() override { end(memory, table); }

  static std::string entry(json value = nullptr) {
    json a = {{"scope", "workflow"},
              {"scope_id", "wf-1"},
              {"workflow_id", "wf-1"},
              {"key", "budget"},
              {"agent", "chat"}};
    if (!value.is_null())
      a["value"] = std::move(value);
    return a.dump();
  }

  /// The store's reply to `(atom, text)`, as JSON.
  template <class Atom> json ask(Atom atom, const std::string& text) {
    auto rh = self->request(memory, std::chrono::seconds(3600), atom, text);
    sched.run();
    json out;
    rh.receive([&](std::string& reply) { out = json::parse(reply); },
               [](caf::error& e) { FAIL() << caf::to_string(e); });
    return out;
  }

  json put(json value) { return ask(mem_put_atom_v, entry(std::move(value))); }
  json get() { return ask(mem_get_atom_v, entry()); }

  /// Crashes the current store (as an exception in a handler would).
  void crash_store() {
    auto rh = self->request(memory, std::chrono::seconds(3600), caf::get_atom_v);
    sched.run();
    caf::actor store;
    rh.receive([&](caf::actor& a) { store = a; },
               [](caf::error& e) { FAIL() << caf::to_string(e); });
    caf::anon_send_exit(store, caf::exit_reason::kill);
    sched.run();
  }

  int reads() {
    return caf::actor_cast<db_actor::stateful_pointer<table_state>>(table)->state.reads;
  }
};

} // namespace

TEST_F(MemoryStoreTest, AnAcknowledgedWriteSurvivesACrashOfTheStore) {
  EXPECT_EQ(put(5000)["version"], 1);
  EXPECT_EQ(put(6000)["version"], 2);
  EXPECT_EQ(get()["value"], 6000);
  EXPECT_EQ(reads(), 0); // served from the store's cache
  crash_store();
  auto after = get(); // a fresh store: read back from the table
  EXPECT_EQ(after["value"], 6000);
  EXPECT_EQ(after["version"], 2);
  EXPECT_EQ(reads(), 1);
}

TEST_F(MemoryStoreTest, TheSupervisorGivesUpAfterThreeRestartsInAMinute) {
  self->monitor(memory);
  for (int i = 0; i < 3; ++i) {
    crash_store();
    EXPECT_EQ(put(i)["version"], i + 1); // restarted and serving
  }
  crash_store(); // the fourth crash within 60 s: escalated
  bool down = false;
  self->receive([&](caf::down_msg& dm) { down = dm.source == memory.address(); },
                caf::after(std::chrono::seconds(0)) >> [] {});
  EXPECT_TRUE(down);
}
