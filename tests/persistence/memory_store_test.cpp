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

using namespace pixelcraft;
using nlohmann::json;

namespace {

struct cfg_t : caf::actor_system_config {
  cfg_t() { register_types(*this); }
};

std::string db_op(caf::scoped_actor& self, const db_actor& db, const std::string& op,
                  const json& args, caf::error* err = nullptr) {
  std::string out;
  self->request(db, std::chrono::seconds(10), db_op_atom_v, op, args.dump())
      .receive([&](std::string& r) { out = std::move(r); },
               [&](caf::error& e) {
                 if (err)
                   *err = e;
                 else
                   ADD_FAILURE() << op << ": " << caf::to_string(e);
               });
  return out;
}

/// A workflow execution of `owner` (an admin's when `admin`); returns its id.
std::string create_workflow(caf::scoped_actor& self, const db_actor& db, const std::string& owner,
                            bool admin) {
  json spec = {{"workflow_type", "sequential"},
               {"participating_agents", {"chat"}},
               {"workflow_config", json::object()},
               {"input_data", json::object()},
               {"owner_id", owner},
               {"owner_admin", admin}};
  return json::parse(db_op(self, db, "wf_create", spec))["workflow_id"].get<std::string>();
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
    json out;
    self->request(mem, std::chrono::seconds(10), mem_put_atom_v, a.dump())
        .receive([&](std::string& r) { out = json::parse(r); },
                 [&](caf::error& e) {
                   if (err)
                     *err = e;
                   else
                     ADD_FAILURE() << caf::to_string(e);
                 });
    return out;
  };
  auto get = [&](const std::string& key) {
    json out;
    self->request(
            mem, std::chrono::seconds(10), mem_get_atom_v,
            json{{"scope", "global"}, {"scope_id", "owner-a"}, {"key", key}, {"workflow_id", wf}}
                .dump())
        .receive([&](std::string& r) { out = json::parse(r); },
                 [&](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
    return out;
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
    json out;
    self->request(mem, std::chrono::seconds(10), atom, a.dump())
        .receive([&](std::string& r) { out = json::parse(r); },
                 [&](caf::error& e) {
                   if (err)
                     *err = e;
                   else
                     ADD_FAILURE() << caf::to_string(e);
                 });
    return out;
  };
  auto keys = [&](const std::string& wf) {
    std::map<std::string, json> out;
    auto list =
        json::parse(db_op(self, db, "mem_list", {{"workflow_id", wf}, {"conversation_id", ""}}));
    for (auto& e : list["items"])
      out[e["scope"].get<std::string>() + ":" + e["key"].get<std::string>()] = e["value"];
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
  self->request(
          mem, std::chrono::seconds(10), mem_get_atom_v,
          json{{"scope", "global"}, {"scope_id", "owner-a"}, {"workflow_id", b1}, {"key", "budget"}}
              .dump())
      .receive([&](std::string& r) { ADD_FAILURE() << "read another owner's key: " << r; },
               [&](caf::error& e) { denied = e; });
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
  self->request(mem, std::chrono::seconds(10), mem_get_atom_v,
                json{{"scope", "system"}, {"scope_id", ""}, {"workflow_id", b1}, {"key", "policy"}}
                    .dump())
      .receive([&](std::string& r) { EXPECT_EQ(json::parse(r)["value"], "strict"); },
               [&](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
  caf::anon_send_exit(mem, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
}
