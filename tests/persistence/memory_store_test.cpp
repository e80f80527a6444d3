// Shared memory under its supervisor, against a real database.
#include "actors/errc.hpp"
#include "actors/memory/memory_store.hpp"
#include "persistence/pg_pool.hpp"
#include "tests/support/pg.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <thread>
#include <type_traits>

using namespace pixelcraft;
using nlohmann::json;

namespace {

struct cfg_t : caf::actor_system_config {
  cfg_t() { register_types(*this); }
};

memory_key key_of(const json& a) {
  return {a.value("scope", ""), a.value("scope_id", ""), a.value("key", ""),
          a.value("workflow_id", "")};
}

memory_write write_of(const json& a) {
  memory_write w;
  w.at = key_of(a);
  w.value = a.value("value", json(nullptr)).dump();
  w.agent = a.value("agent", "");
  w.expected_version = a.value("expected_version", int64_t{-1});
  w.ttl_s = a.value("ttl_s", -1.0);
  return w;
}

/// An entry as the API shows it; `null` when absent.
json json_of(const memory_entry& e) {
  return e.found() ? json::parse(memory_entry_json(e)) : json(nullptr);
}

/// Sends a memory request built from `a` (a write or a key, by `Atom`) and returns the entry.
template <class Atom>
json mem_call(caf::scoped_actor& self, const memory_actor& mem, Atom atom, const json& a,
              caf::error* err = nullptr) {
  json out;
  auto on_ok = [&](memory_entry& e) { out = json_of(e); };
  auto on_err = [&](caf::error& e) {
    if (err)
      *err = e;
    else
      ADD_FAILURE() << caf::to_string(e);
  };
  if constexpr (std::is_same_v<Atom, mem_put_atom>)
    self->request(mem, std::chrono::seconds(10), atom, write_of(a)).receive(on_ok, on_err);
  else
    self->request(mem, std::chrono::seconds(10), atom, key_of(a)).receive(on_ok, on_err);
  return out;
}

/// A workflow execution of `owner` (an admin's when `admin`); returns its id.
std::string create_workflow(caf::scoped_actor& self, const db_actor& db, const std::string& owner,
                            bool admin) {
  run_spec spec;
  spec.workflow_type = "sequential";
  spec.participating_agents = {"chat"};
  spec.owner_id = owner;
  spec.owner_admin = admin;
  std::string id;
  self->request(db, std::chrono::seconds(10), run_new_atom_v, spec)
      .receive([&](run_row& row) { id = row.workflow_id; },
               [&](caf::error& e) { ADD_FAILURE() << "run_new: " << caf::to_string(e); });
  return id;
}

} // namespace

TEST(MemoryStoreTest, VersionsCasExpiryAndASupervisedRestartLosesNothing) {
  PIXELCRAFT_REQUIRE_PG();
  cfg_t cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto db = persistence::spawn_db_pool(sys, {test::create_database(), 2, 5000, 3});
  auto mem = spawn_memory_supervisor(sys, db, 5000);
  auto wf = create_workflow(self, db, "owner-a", false);
  auto put = [&](json a, caf::error* err = nullptr) {
    return mem_call(self, mem, mem_put_atom_v, a, err);
  };
  auto get = [&](const std::string& key) {
    return mem_call(
        self, mem, mem_get_atom_v,
        {{"scope", "global"}, {"scope_id", "owner-a"}, {"key", key}, {"workflow_id", wf}});
  };
  json base = {{"scope", "global"},
               {"scope_id", "owner-a"},
               {"key", "budget"},
               {"agent", "chat"},
               {"workflow_id", wf}};
  auto v1 = base;
  v1["value"] = 5000;
  EXPECT_EQ(put(v1)["version"], 1);
  auto v2 = base;
  v2["value"] = 7000;
  v2["expected_version"] = 1;
  EXPECT_EQ(put(v2)["version"], 2);
  caf::error conflict;
  put(v2, &conflict); // expected 1, but it is 2 now
  EXPECT_TRUE(conflict == errc::failed_precondition) << caf::to_string(conflict);

  // Crash the store: the supervisor restarts it, and the acknowledged value is still there.
  caf::actor store;
  self->request(mem, std::chrono::seconds(5), caf::get_atom_v)
      .receive([&](caf::actor& a) { store = a; },
               [&](caf::error& e) { FAIL() << caf::to_string(e); });
  self->send_exit(store, caf::make_error(errc::internal, "boom"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  caf::actor fresh;
  self->request(mem, std::chrono::seconds(5), caf::get_atom_v)
      .receive([&](caf::actor& a) { fresh = a; },
               [&](caf::error& e) { FAIL() << caf::to_string(e); });
  EXPECT_NE(fresh, store);
  auto after = get("budget");
  EXPECT_EQ(after["value"], 7000);
  EXPECT_EQ(after["version"], 2);

  // Expiry: an expired key reads as absent.
  auto t = base;
  t["key"] = "flash";
  t["value"] = true;
  t["ttl_s"] = 2; // long enough for the first read on a loaded machine (0.3 s was not)
  put(t);
  EXPECT_EQ(get("flash")["value"], true);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_TRUE(get("flash").is_null());
  caf::anon_send_exit(mem, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
}

// API.md §7 v1.1: `global` is global to the owner; `system` is read by all, written by admins.
TEST(MemoryStoreTest, GlobalKeysBelongToTheirOwnerAndOnlyAdminRunsWriteSystem) {
  PIXELCRAFT_REQUIRE_PG();
  cfg_t cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto db = persistence::spawn_db_pool(sys, {test::create_database(), 2, 5000, 3});
  auto mem = spawn_memory_supervisor(sys, db, 5000);
  auto a1 = create_workflow(self, db, "owner-a", false);
  auto a2 = create_workflow(self, db, "owner-a", false);
  auto b1 = create_workflow(self, db, "owner-b", false);
  auto admin = create_workflow(self, db, "root", true);
  auto ask = [&](auto atom, json a, caf::error* err = nullptr) {
    return mem_call(self, mem, atom, a, err);
  };
  auto keys = [&](const std::string& wf) {
    std::map<std::string, json> out;
    self->request(db, std::chrono::seconds(10), mem_list_atom_v, wf, std::string{})
        .receive(
            [&](std::vector<memory_entry>& list) {
              for (auto& e : list)
                out[e.scope + ":" + e.key] = json::parse(e.value);
            },
            [&](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
    return out;
  };

  // Owner A writes a global key: A's other workflow sees it, owner B's does not.
  ask(mem_put_atom_v, {{"scope", "global"},
                       {"scope_id", "owner-a"},
                       {"workflow_id", a1},
                       {"key", "budget"},
                       {"value", 5000},
                       {"agent", "chat"}});
  EXPECT_EQ(ask(mem_get_atom_v, {{"scope", "global"},
                                 {"scope_id", "owner-a"},
                                 {"workflow_id", a2},
                                 {"key", "budget"}})["value"],
            5000);
  EXPECT_EQ(keys(a2).count("global:budget"), 1u);
  EXPECT_EQ(keys(b1).count("global:budget"), 0u);
  EXPECT_TRUE(
      ask(mem_get_atom_v,
          {{"scope", "global"}, {"scope_id", "owner-b"}, {"workflow_id", b1}, {"key", "budget"}})
          .is_null());
  // B has a key of the same name of its own, independent of A's.
  ask(mem_put_atom_v, {{"scope", "global"},
                       {"scope_id", "owner-b"},
                       {"workflow_id", b1},
                       {"key", "budget"},
                       {"value", 1},
                       {"agent", "chat"}});
  EXPECT_EQ(keys(b1)["global:budget"], 1);
  EXPECT_EQ(keys(a1)["global:budget"], 5000);

  // Naming another owner's scope from one's own run is refused, reads and writes alike.
  caf::error denied;
  auto leaked =
      ask(mem_get_atom_v,
          {{"scope", "global"}, {"scope_id", "owner-a"}, {"workflow_id", b1}, {"key", "budget"}},
          &denied);
  EXPECT_TRUE(leaked.is_null()) << "read another owner's key: " << leaked;
  EXPECT_TRUE(denied == errc::permission_denied) << caf::to_string(denied);
  denied = caf::error{};
  ask(mem_put_atom_v,
      {{"scope", "global"},
       {"scope_id", "owner-a"},
       {"workflow_id", b1},
       {"key", "budget"},
       {"value", 0},
       {"agent", "chat"}},
      &denied);
  EXPECT_TRUE(denied == errc::permission_denied) << caf::to_string(denied);
  EXPECT_EQ(keys(a1)["global:budget"], 5000);

  // System scope: a user's run may not write it, an admin's may, every run reads it.
  denied = caf::error{};
  ask(mem_put_atom_v,
      {{"scope", "system"},
       {"scope_id", ""},
       {"workflow_id", a1},
       {"key", "policy"},
       {"value", "user"},
       {"agent", "chat"}},
      &denied);
  EXPECT_TRUE(denied == errc::permission_denied) << caf::to_string(denied);
  ask(mem_put_atom_v, {{"scope", "system"},
                       {"scope_id", ""},
                       {"workflow_id", admin},
                       {"key", "policy"},
                       {"value", "strict"},
                       {"agent", "chat"}});
  EXPECT_EQ(keys(b1)["system:policy"], "strict");
  EXPECT_EQ(keys(a1)["system:policy"], "strict");
  EXPECT_EQ(
      ask(mem_get_atom_v,
          {{"scope", "system"}, {"scope_id", ""}, {"workflow_id", b1}, {"key", "policy"}})["value"],
      "strict");
  caf::anon_send_exit(mem, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
}
