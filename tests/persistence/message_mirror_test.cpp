// The agent-message mirror against a real database: batching, forward-only statuses, flush.
#include "actors/agent_message.hpp"
#include "actors/errc.hpp"
#include "actors/ids.hpp"
#include "persistence/message_mirror.hpp"
#include "persistence/pg_pool.hpp"
#include "tests/support/pg.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
    workflow_id = new_run();
  }

  void TearDown() override {
    self->send_exit(mirror, caf::exit_reason::user_shutdown);
    self->send_exit(db, caf::exit_reason::user_shutdown);
  }

  /// A new collaborative execution; its id.
  std::string new_run() {
    run_spec spec;
    spec.workflow_type = "collaborative";
    spec.participating_agents = {"chat", "web_development"};
    std::string id;
    self->request(db, std::chrono::seconds(10), run_new_atom_v, spec)
        .receive([&](run_row& row) { id = row.workflow_id; },
                 [&](caf::error& e) { ADD_FAILURE() << "run_new: " << caf::to_string(e); });
    return id;
  }

  bool flush() {
    bool ok = false;
    self->request(mirror, std::chrono::seconds(20), mirror_flush_atom_v)
        .receive([&](bool) { ok = true; },
                 [&](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
    return ok;
  }

  json message(const std::string& wf, const std::string& type = "request") {
    return {{"message_id", random_uuid()},
            {"workflow_execution_id", wf},
            {"from_agent", "chat"},
            {"to_agent", "web_development"},
            {"message_type", type},
            {"content", {{"n", 1}}},
            {"metadata", json::object()},
            {"status", "pending"},
            {"created_at", "2026-11-24T10:00:00.000Z"}};
  }

  void status(const std::string& id, const std::string& s) {
    self->send(mirror, mirror_status_atom_v, std::vector<std::string>{id}, s);
  }

  std::map<std::string, json> stored() {
    std::map<std::string, json> out;
    self->request(db, std::chrono::seconds(30), amsg_list_atom_v,
                  agent_message_filter{workflow_id, "", "", "", "", false, 5000, 0})
        .receive(
            [&](agent_message_page& page) {
              for (auto& m : page.items)
                out[m.message_id] = to_json(m);
            },
            [&](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
    return out;
  }
};

} // namespace

TEST_F(MirrorTest, BatchesKeepEveryMessageAndOnlyMoveStatusesForward) {
  std::vector<std::string> ids;
  for (int i = 0; i < 450; ++i) {
    auto m = message(workflow_id);
    ids.push_back(m["message_id"]);
    self->send(mirror, mirror_put_atom_v, agent_message_from_json(m));
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
  self->send(mirror, mirror_put_atom_v, agent_message_from_json(orphan));
  self->send(mirror, mirror_put_atom_v, agent_message_from_json(kept));
  ASSERT_TRUE(flush());
  auto rows = stored();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.begin()->first, kept["message_id"]);
  // A flush with nothing queued answers at once.
  EXPECT_TRUE(flush());
}

// API.md §1 v1.1: one client's bad row never fails another client's write. A row with a NUL
// character is refused before it joins a batch; a row the database refuses (here a timestamp
// it cannot read) makes its batch fail, which is then retried row by row: only that row fails,
// every other one is stored, and each waiter hears about its own row only.
TEST_F(MirrorTest, ABadRowInABatchFailsAloneAndTheGoodRowsAreStored) {
  auto store = [&](const json& row) {
    return self->request(mirror, std::chrono::seconds(20), mirror_store_atom_v,
                         agent_message_from_json(row));
  };
  auto nul = message(workflow_id);
  nul["content"] = {{"text", std::string{"a\0b", 3}}};
  auto unreadable = message(workflow_id);
  unreadable["created_at"] = "2026-13-45T99:99:99Z"; // a string, so it passes the row check
  std::vector<json> good;
  for (int i = 0; i < 20; ++i)
    good.push_back(message(workflow_id, i % 2 ? "notification" : "request"));
  // Fire-and-forget rows (agents) queue up first, so the stores below share their batch.
  for (int i = 0; i < 10; ++i)
    self->send(mirror, mirror_put_atom_v, agent_message_from_json(good[i]));
  self->send(mirror, mirror_put_atom_v, agent_message_from_json(unreadable));
  auto h_nul = store(nul);
  auto h_bad = store(unreadable);
  std::vector<decltype(store(nul))> handles;
  for (int i = 10; i < 20; ++i)
    handles.push_back(store(good[i]));

  h_nul.receive(
      [](bool) { ADD_FAILURE() << "a row with NUL was stored"; },
      [](caf::error& e) { EXPECT_TRUE(e == errc::invalid_argument) << caf::to_string(e); });
  h_bad.receive([](bool) { ADD_FAILURE() << "an unreadable row was stored"; },
                [](caf::error& e) { EXPECT_FALSE(e == errc::unavailable) << caf::to_string(e); });
  for (auto& h : handles)
    h.receive([](bool ok) { EXPECT_TRUE(ok); },
              [](caf::error& e) { ADD_FAILURE() << "a good row failed: " << caf::to_string(e); });
  ASSERT_TRUE(flush()); // another row's refusal does not fail a flush
  auto rows = stored();
  EXPECT_EQ(rows.size(), good.size());
  for (const auto& m : good)
    EXPECT_EQ(rows.count(m["message_id"].get<std::string>()), 1u) << m;
  EXPECT_EQ(rows.count(nul["message_id"].get<std::string>()), 0u);
  EXPECT_EQ(rows.count(unreadable["message_id"].get<std::string>()), 0u);

  // The mirror goes on: later rows and status changes are stored as usual.
  auto later = message(workflow_id);
  bool ok = false;
  store(later).receive([&](bool b) { ok = b; },
                       [](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
  EXPECT_TRUE(ok);
  status(later["message_id"].get<std::string>(), "delivered");
  ASSERT_TRUE(flush());
  EXPECT_EQ(stored()[later["message_id"].get<std::string>()]["status"], "delivered");
}

TEST(MirrorRowTest, MessagesAreCheckedBeforeTheyJoinABatch) {
  json row = {{"message_id", "6f1c7a52-0a8e-4d53-9a57-0d7b8f6f3c11"},
              {"workflow_execution_id", "0b7f5a60-1c2d-4e3f-8a9b-0c1d2e3f4a5b"},
              {"from_agent", "chat"},
              {"to_agent", "web_development"},
              {"message_type", "request"},
              {"content", {{"n", 1}}},
              {"metadata", json::object()},
              {"status", "pending"},
              {"created_at", "2026-11-24T10:00:00.000Z"}};
  auto good = agent_message_from_json(row);
  EXPECT_EQ(agent_message_problem(good, 1 << 20), "");
  auto with = [&](const char* key, json v) {
    auto r = row;
    r[key] = std::move(v);
    return agent_message_problem(agent_message_from_json(r), 1 << 20);
  };
  EXPECT_NE(with("content", {{"t", std::string{"x\0", 2}}}), "");
  EXPECT_NE(with("metadata", {{std::string{"k\0", 2}, 1}}), "");
  EXPECT_NE(with("from_agent", std::string{"ch\0at", 5}), "");
  EXPECT_NE(with("message_id", "not-a-uuid"), "");
  EXPECT_NE(with("message_type", "shout"), "");
  EXPECT_NE(with("status", "done"), "");
  // A backslash followed by "u0000" is text, not a NUL.
  EXPECT_EQ(with("content", {{"t", "\\u0000"}}), "");
  auto changed = [&](auto change) {
    auto m = good;
    change(m);
    return agent_message_problem(m, 1 << 20);
  };
  EXPECT_NE(changed([](agent_message& m) { m.content = "\"text\""; }), "");
  EXPECT_NE(changed([](agent_message& m) { m.metadata = "[]"; }), "");
  EXPECT_NE(changed([](agent_message& m) { m.from_agent = "\xff\xfe"; }), ""); // UTF-8
  EXPECT_NE(changed([](agent_message& m) { m.to_agent.clear(); }), "");
  EXPECT_NE(agent_message_problem(good, 10), ""); // size
}
