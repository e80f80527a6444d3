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
  std::map<std::string, memory_entry> rows;
  int reads = 0;
  static inline const char* name = "test.memory-table";
};

std::string row_key(const memory_key& k) {
  return k.scope + "/" + k.scope_id + "/" + k.key;
}

caf::behavior table_standin(caf::stateful_actor<table_state>* self) {
  return test::db_standin_behavior(
      [self](mem_put_atom, const memory_write& w) {
        auto& row = self->state.rows[row_key(w.at)];
        row = {w.at.key, w.value, w.at.scope, row.version + 1, w.agent, "2026-12-03T10:00:00Z", ""};
        return row;
      },
      [self](mem_get_atom, const memory_key& k) {
        ++self->state.reads;
        auto it = self->state.rows.find(row_key(k));
        return it == self->state.rows.end() ? memory_entry{} : it->second;
      });
}

class MemoryStoreTest : public test::CoordinatorTest {
protected:
  db_actor table;
  memory_actor memory;

  void SetUp() override {
    table = caf::actor_cast<db_actor>(sys.spawn(table_standin));
    memory = spawn_memory_supervisor(sys, table, 5000);
    sched.run();
  }

  void TearDown() override { end(memory, table); }

  static memory_key at() { return {"workflow", "wf-1", "budget", "wf-1"}; }

  /// The store's reply to `(atom, x)`, with the entry's value as JSON.
  template <class Atom, class T> json ask(Atom atom, T x) {
    auto rh = self->request(memory, std::chrono::seconds(3600), atom, std::move(x));
    sched.run();
    json out;
    rh.receive(
        [&](memory_entry& e) {
          out = {{"value", json::parse(e.value)}, {"version", e.version}, {"key", e.key}};
        },
        [](caf::error& e) { FAIL() << caf::to_string(e); });
    return out;
  }

  json put(json value) {
    memory_write w;
    w.at = at();
    w.value = value.dump();
    w.agent = "chat";
    return ask(mem_put_atom_v, std::move(w));
  }
  json get() { return ask(mem_get_atom_v, at()); }

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

  int reads() { return caf::actor_cast<caf::stateful_actor<table_state>*>(table)->state.reads; }
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

TEST_F(MemoryStoreTest, AWriteMadeInAStepsSaveReplacesTheCachedEntry) {
  EXPECT_EQ(put(5000)["version"], 1);
  EXPECT_EQ(get()["value"], 5000); // cached
  // A step's save wrote the key in its own transaction (version 2): the run actor tells the
  // store, which serves the new value from its cache.
  caf::anon_send(memory, mem_stored_atom_v, at(),
                 memory_entry{"budget", "7000", "workflow", 2, "chat", "2026-12-03T10:00:01Z", ""});
  sched.run();
  EXPECT_EQ(get()["value"], 7000);
  // An older write reported late never replaces a newer one.
  caf::anon_send(memory, mem_stored_atom_v, at(),
                 memory_entry{"budget", "1", "workflow", 1, "chat", "2026-12-03T10:00:00Z", ""});
  sched.run();
  auto now = get();
  EXPECT_EQ(now["value"], 7000);
  EXPECT_EQ(now["version"], 2);
  EXPECT_EQ(reads(), 0);
}
