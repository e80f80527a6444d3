// The agent-message mirror against a real database: batching, forward-only statuses, flush.
#include "actors/message_mirror.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/errc.hpp"
#include "actors/ids.hpp"
#include "persistence/pg_pool.hpp"
#include "tests/support/pg.hpp"

using namespace pixelcraft;
using nlohmann::json;

namespace {

struct cfg_t : caf::actor_system_config {
  cfg_t() { register_types(*this); }
};

struct MirrorTest : ::testing::Test {
  cfg_t cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor db;
  message_mirror_actor mirror;
  std::string workflow_id;

  void SetUp() override {
    PIXELCRAFT_REQUIRE_PG();
    db = persistence::spawn_db_pool(sys, {test::create_database(), 2, 5000, 3});
    message_mirror_options opts;
    opts.db = db;
    opts.max_batch = 100; // several batches in the tests below
    mirror = spawn_message_mirror(sys, opts);
    json spec = {{"workflow_type", "collaborative"},
                 {"participating_agents", {"chat", "web_development"}},
                 {"workflow_config", json::object()}, {"input_data", json::object()}};
    workflow_id = json::parse(op("wf_create", spec))["workflow_id"].get<std::string>();
  }

  void TearDown() override {
    self->send_exit(mirror, caf::exit_reason::user_shutdown);
    self->send_exit(db, caf::exit_reason::user_shutdown);
  }

  std::string op(const std::string& name, const json& args) {
    std::string out;
    self->request(db, std::chrono::seconds(10), db_op_atom_v, name, args.dump())
      .receive([&](std::string& r) { out = r; },
               [&](caf::error& e) { ADD_FAILURE() << name << ": " << caf::to_string(e); });
    return out;
  }

  bool flush() {
    bool ok = false;
    self->request(mirror, std::chrono::seconds(20), mirror_flush_atom_v)
      .receive([&](bool) { ok = true; },
               [&](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
    return ok;
  }

  json message(const std::string& wf, const std::string& type = "request") {
    return {{"message_id", random_uuid()}, {"workflow_execution_id", wf},
            {"from_agent", "chat"}, {"to_agent", "web_development"}, {"message_type", type},
            {"content", {{"n", 1}}}, {"metadata", json::object()}, {"status", "pending"},
            {"created_at", "2026-11-24T10:00:00.000Z"}};
  }

  void status(const std::string& id, const std::string& s) {
    self->send(mirror, mirror_status_atom_v, json::array({id}).dump(), s);
  }

  std::map<std::string, json> stored() {
    auto list = json::parse(op("amsg_list", {{"workflow_id", workflow_id}, {"limit", 5000},
                                             {"offset", 0}}));
    std::map<std::string, json> out;
    for (auto& m : list["items"])
      out[m["message_id"].get<std::string>()] = m;
    return out;
  }
};

} // namespace

TEST_F(MirrorTest, BatchesKeepEveryMessageAndOnlyMoveStatusesForward) {
  std::vector<std::string> ids;
  for (int i = 0; i < 450; ++i) {
    auto m = message(workflow_id);
    ids.push_back(m["message_id"]);
    self->send(mirror, mirror_put_atom_v, m.dump());
    status(ids.back(), "delivered");
    if (i % 3 == 0)
      status(ids.back(), "processed");
    if (i % 3 == 1)
      status(ids.back(), "failed");
    status(ids.back(), "pending"); // backwards: ignored
  }
  ASSERT_TRUE(flush());
  auto rows = stored();
  ASSERT_EQ(rows.size(), 450u);
  for (int i = 0; i < 450; ++i) {
    auto& row = rows[ids[i]];
    auto expected = i % 3 == 0 ? "processed" : i % 3 == 1 ? "failed" : "delivered";
    EXPECT_EQ(row["status"], expected) << i;
    EXPECT_EQ(row["processed_at"].is_string(), i % 3 == 0) << row;
    EXPECT_EQ(row["created_at"].get<std::string>().substr(0, 19), "2026-11-24T10:00:00");
  }
  // Changes after the rows are stored: forward ones apply, backward ones do not.
  status(ids[2], "processed");
  status(ids[0], "delivered");
  status(ids[1], "processed");
  ASSERT_TRUE(flush());
  rows = stored();
  EXPECT_EQ(rows[ids[2]]["status"], "processed");
  EXPECT_EQ(rows[ids[0]]["status"], "processed");
  EXPECT_EQ(rows[ids[1]]["status"], "failed");
}

TEST_F(MirrorTest, AMessageOfADeletedWorkflowDoesNotBlockTheOthers) {
  auto orphan = message("00000000-0000-4000-8000-000000000000");
  auto kept = message(workflow_id, "notification");
  self->send(mirror, mirror_put_atom_v, orphan.dump());
  self->send(mirror, mirror_put_atom_v, kept.dump());
  ASSERT_TRUE(flush());
  auto rows = stored();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.begin()->first, kept["message_id"]);
  // A flush with nothing queued answers at once.
  EXPECT_TRUE(flush());
}
