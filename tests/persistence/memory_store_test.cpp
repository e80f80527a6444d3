// Shared memory under its supervisor, against a real database.
#include "actors/memory_store.hpp"

#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/errc.hpp"
#include "persistence/pg_pool.hpp"
#include "tests/support/pg.hpp"

using namespace pixelcraft;
using nlohmann::json;

namespace {

struct cfg_t : caf::actor_system_config {
  cfg_t() { register_types(*this); }
};

} // namespace

TEST(MemoryStoreTest, VersionsCasExpiryAndASupervisedRestartLosesNothing) {
  PIXELCRAFT_REQUIRE_PG();
  cfg_t cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto db = persistence::spawn_db_pool(sys, {test::create_database(), 2, 5000, 3});
  auto mem = spawn_memory_supervisor(sys, db, 5000);
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
    self->request(mem, std::chrono::seconds(10), mem_get_atom_v,
                  json{{"scope", "global"}, {"scope_id", ""}, {"key", key}}.dump())
      .receive([&](std::string& r) { out = json::parse(r); },
               [&](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
    return out;
  };
  json base = {{"scope", "global"}, {"scope_id", ""}, {"key", "budget"}, {"agent", "chat"}};
  auto v1 = base;
  v1["value"] = 5000;
  EXPECT_EQ(put(v1)["version"], 1);
  auto v2 = base;
  v2["value"] = 7000;
  v2["expected_version"] = 1;
  EXPECT_EQ(put(v2)["version"], 2);
  caf::error conflict;
  put(v2, &conflict); // expected 1, but it is 2 now
  EXPECT_EQ(conflict.code(), static_cast<uint8_t>(errc::failed_precondition));

  // Crash the store: the supervisor restarts it, and the acknowledged value is still there.
  caf::actor store;
  self->request(mem, std::chrono::seconds(5), caf::get_atom_v).receive(
    [&](caf::actor& a) { store = a; }, [&](caf::error& e) { FAIL() << caf::to_string(e); });
  self->send_exit(store, caf::make_error(errc::internal, "boom"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  caf::actor fresh;
  self->request(mem, std::chrono::seconds(5), caf::get_atom_v).receive(
    [&](caf::actor& a) { fresh = a; }, [&](caf::error& e) { FAIL() << caf::to_string(e); });
  EXPECT_NE(fresh, store);
  auto after = get("budget");
  EXPECT_EQ(after["value"], 7000);
  EXPECT_EQ(after["version"], 2);

  // Expiry: an expired key reads as absent.
  auto t = base;
  t["key"] = "flash";
  t["value"] = true;
  t["ttl_s"] = 0.3;
  put(t);
  EXPECT_EQ(get("flash")["value"], true);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(get("flash").is_null());
  caf::anon_send_exit(mem, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
}
