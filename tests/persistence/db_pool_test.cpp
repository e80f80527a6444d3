// The pool actor against a real database: repository statements, errors, idempotency.
#include "actors/errc.hpp"
#include "actors/fwd.hpp"
#include "actors/stores/approval_store.hpp"
#include "actors/stores/journal_store.hpp"
#include "persistence/pg_pool.hpp"
#include "tests/support/pg.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <vector>

using namespace pixelcraft;
using nlohmann::json;

namespace {

struct test_config : caf::actor_system_config {
  test_config() { register_types(*this); }
};

class DbPoolTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (test::admin_dsn().empty())
      return;
    dsn = test::create_database();
    pool = persistence::spawn_db_pool(sys, {dsn, 2, 5000, 3});
  }
  void TearDown() override {
    if (pool)
      caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }

  /// Sends a request and returns the reply (text unless `R` says otherwise), or the error via
  /// `err`.
  template <class R = std::string, class... Ts> R call(caf::error* err, Ts... xs) {
    R out{};
    self->request(pool, std::chrono::seconds(15), xs...)
        .receive([&](R& r) { out = std::move(r); },
                 [&](caf::error& e) {
                   if (err)
                     *err = e;
                   else
                     ADD_FAILURE() << caf::to_string(e);
                 });
    return out;
  }

  /// A statement straight on the test database (setting up what another node would do).
  void pqxx_exec(const std::string& sql) {
    pqxx::connection c{dsn};
    pqxx::work w{c};
    w.exec(sql);
    w.commit();
  }

  json insert(json row) { return json::parse(call(nullptr, lead_new_atom_v, input_of(row))); }

  static std::string text(const json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string{};
  }

  static lead_input input_of(const json& row) {
    lead_input in;
    in.name = text(row, "name");
    in.email = text(row, "email");
    in.company = text(row, "company");
    in.phone = text(row, "phone");
    in.message = text(row, "message");
    for (const auto& s : row.value("services_interested", json::array()))
      in.services_interested.push_back(s.get<std::string>());
    in.budget_range = text(row, "budget_range");
    in.timeline = text(row, "timeline");
    in.source = text(row, "source");
    in.owner_id = text(row, "owner_id");
    if (row.contains("analysis") && row["analysis"].is_object())
      in.analysis = row["analysis"].dump();
    if (row.contains("lead_score") && row["lead_score"].is_number_integer())
      in.lead_score = row["lead_score"].get<int32_t>();
    return in;
  }

  static lead_filter filter_of(const std::string& text_json) {
    auto j = json::parse(text_json);
    lead_filter f;
    f.limit = j.value("limit", 50);
    f.offset = j.value("offset", 0);
    f.min_score = j.value("min_score", -1);
    f.search = text(j, "search");
    f.status = text(j, "status");
    f.assigned_to = text(j, "assigned_to");
    return f;
  }

  static lead_patch patch_of(const json& j) {
    lead_patch p;
    p.status = text(j, "status");
    if (j.contains("assigned_to")) {
      p.set_assignee = true;
      p.assigned_to = text(j, "assigned_to");
    }
    p.note = text(j, "note");
    p.author = text(j, "author");
    if (j.contains("metadata"))
      p.metadata = j["metadata"].dump();
    return p;
  }

  static json lead(const std::string& name, const std::string& email, int score) {
    return {{"name", name},
            {"email", email},
            {"company", nullptr},
            {"phone", nullptr},
            {"message", "Hello there from " + name},
            {"services_interested", {"web_development"}},
            {"budget_range", "1000-5000"},
            {"timeline", nullptr},
            {"source", "contact_form"},
            {"owner_id", nullptr},
            {"analysis", {{"lead_score", {{"score", score}}}}},
            {"lead_score", score}};
  }

  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor pool;
  std::string dsn;
};

} // namespace

TEST_F(DbPoolTest, PingReportsSchemaVersion) {
  PIXELCRAFT_REQUIRE_PG();
  auto ping = call<db_ping>(nullptr, ping_atom_v);
  EXPECT_GE(ping.schema_version, 11);
  EXPECT_GE(ping.latency_ms, 0.0);
}

TEST_F(DbPoolTest, InsertGetAndTimestamps) {
  PIXELCRAFT_REQUIRE_PG();
  auto l = insert(lead("Ann", "ann@example.com", 42));
  EXPECT_EQ(l["status"], "new");
  EXPECT_EQ(l["lead_score"], 42);
  EXPECT_EQ(l["notes"], json::array());
  EXPECT_EQ(l["metadata"], json::object());
  EXPECT_TRUE(l["company"].is_null());
  auto created = l["created_at"].get<std::string>();
  ASSERT_EQ(created.size(), 24u) << created; // 2026-11-23T10:00:00.123Z
  EXPECT_EQ(created.back(), 'Z');
  auto got = json::parse(call(nullptr, lead_get_atom_v, l["lead_id"].get<std::string>()));
  EXPECT_EQ(got, l);
}

// A statement stuck on a lock holds its worker until the statement timeout (5 s here). Reads
// that arrive meanwhile go to a free worker, not behind it; the stuck write is not lost.
TEST_F(DbPoolTest, AWorkerStuckOnALockHoldsNoRequestBehindIt) {
  PIXELCRAFT_REQUIRE_PG();
  for (int i = 0; i < 2; ++i) // both workers connect (and migrate) first
    call<db_ping>(nullptr, ping_atom_v);
  pqxx::connection side{dsn};
  pqxx::work lock{side};
  lock.exec("LOCK TABLE leads IN ACCESS EXCLUSIVE MODE");

  auto stuck = self->request(pool, std::chrono::seconds(15), lead_new_atom_v,
                             input_of(lead("Locked", "locked@example.com", 10)));
  for (int i = 0; i < 6; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    self->request(pool, std::chrono::seconds(3), ping_atom_v)
        .receive(
            [](db_ping&) {},
            [&](caf::error& e) { ADD_FAILURE() << "ping " << i << ": " << caf::to_string(e); });
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "ping " << i;
  }
  lock.abort(); // the insert goes on
  std::string row;
  std::move(stuck).receive([&](std::string& r) { row = std::move(r); },
                           [](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(json::parse(row)["name"], "Locked");
}

// Group commit: writes sent together share a transaction and a commit, and a row the database
// refuses fails alone (its batch is retried row by row): every other row is stored and
// answered with itself.
TEST_F(DbPoolTest, ConcurrentInsertsCommitTogetherAndABadRowFailsAlone) {
  PIXELCRAFT_REQUIRE_PG();
  constexpr int n = 300;
  std::vector<decltype(self->request(pool, std::chrono::seconds(30), lead_new_atom_v,
                                     lead_input{}))>
      pending;
  for (int i = 0; i < n; ++i) {
    // Every 100th row breaks the table's name check (at most 200 characters).
    auto name = i % 100 == 7 ? std::string(300, 'x') : "Lead " + std::to_string(i);
    pending.push_back(
        self->request(pool, std::chrono::seconds(30), lead_new_atom_v,
                      input_of(lead(name, "l" + std::to_string(i) + "@example.com", i % 100))));
  }
  int stored = 0, refused = 0;
  for (int i = 0; i < n; ++i)
    pending[static_cast<size_t>(i)].receive(
        [&, i](std::string& text) {
          auto row = json::parse(text);
          EXPECT_EQ(row["email"], "l" + std::to_string(i) + "@example.com"); // its own row
          ++stored;
        },
        [&, i](caf::error& err) {
          EXPECT_EQ(i % 100, 7) << caf::to_string(err);
          EXPECT_TRUE(err == errc::invalid_argument) << caf::to_string(err);
          ++refused;
        });
  EXPECT_EQ(stored, n - 3);
  EXPECT_EQ(refused, 3);
  lead_filter all;
  all.limit = 1;
  EXPECT_EQ(json::parse(call(nullptr, lead_list_atom_v, all))["total"], n - 3);
}

TEST_F(DbPoolTest, UnknownLeadIsNotFound) {
  PIXELCRAFT_REQUIRE_PG();
  caf::error err;
  call(&err, lead_get_atom_v, std::string{"00000000-0000-4000-8000-000000000000"});
  EXPECT_EQ(err, caf::make_error(errc::not_found, "lead not found"));
  caf::error err2;
  call(&err2, lead_upd_atom_v, std::string{"00000000-0000-4000-8000-000000000000"},
       patch_of(json{{"status", "lost"}}));
  EXPECT_TRUE(err2 == errc::not_found) << caf::to_string(err2);
}

TEST_F(DbPoolTest, ListFiltersSearchAndPaginates) {
  PIXELCRAFT_REQUIRE_PG();
  insert(lead("Alice Martin", "alice@acme.io", 80));
  insert(lead("Bob_Stone", "bob@example.com", 30));
  auto c = insert(lead("Carla 100%", "carla@example.com", 60));
  auto all = json::parse(call(nullptr, lead_list_atom_v, filter_of(R"({"limit":50,"offset":0})")));
  EXPECT_EQ(all["total"], 3);
  ASSERT_EQ(all["items"].size(), 3u);
  EXPECT_EQ(all["items"][0]["lead_id"], c["lead_id"]); // newest first
  auto page = json::parse(call(nullptr, lead_list_atom_v, filter_of(R"({"limit":1,"offset":1})")));
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(page["items"].size(), 1u);
  auto high = json::parse(
      call(nullptr, lead_list_atom_v, filter_of(R"({"limit":50,"offset":0,"min_score":60})")));
  EXPECT_EQ(high["total"], 2);
  auto search = json::parse(
      call(nullptr, lead_list_atom_v, filter_of(R"({"limit":50,"offset":0,"search":"ACME"})")));
  ASSERT_EQ(search["total"], 1);
  EXPECT_EQ(search["items"][0]["name"], "Alice Martin");
  // LIKE wildcards in the search term are literal.
  auto pct = json::parse(
      call(nullptr, lead_list_atom_v, filter_of(R"({"limit":50,"offset":0,"search":"0%"})")));
  EXPECT_EQ(pct["total"], 1);
  auto underscore = json::parse(
      call(nullptr, lead_list_atom_v, filter_of(R"({"limit":50,"offset":0,"search":"b_s"})")));
  EXPECT_EQ(underscore["total"], 1);
  auto beyond =
      json::parse(call(nullptr, lead_list_atom_v, filter_of(R"({"limit":10,"offset":10})")));
  EXPECT_EQ(beyond["total"], 3);
  EXPECT_EQ(beyond["items"], json::array());
}

TEST_F(DbPoolTest, UpdateAppendsNotesAndMergesMetadata) {
  PIXELCRAFT_REQUIRE_PG();
  auto l = insert(lead("Dan", "dan@example.com", 10));
  auto id = l["lead_id"].get<std::string>();
  auto u1 = json::parse(call(nullptr, lead_upd_atom_v, id,
                             patch_of(json{{"status", "contacted"},
                                           {"assigned_to", "eve"},
                                           {"note", "first call"},
                                           {"author", "admin-1"},
                                           {"metadata", {{"a", 1}, {"b", 2}}}})));
  EXPECT_EQ(u1["status"], "contacted");
  EXPECT_EQ(u1["assigned_to"], "eve");
  ASSERT_EQ(u1["notes"].size(), 1u);
  EXPECT_EQ(u1["notes"][0]["text"], "first call");
  EXPECT_EQ(u1["notes"][0]["author"], "admin-1");
  auto u2 = json::parse(
      call(nullptr, lead_upd_atom_v, id,
           patch_of(json{
               {"note", "second"}, {"metadata", {{"b", 3}, {"c", 4}}}, {"assigned_to", nullptr}})));
  EXPECT_EQ(u2["status"], "contacted");
  EXPECT_TRUE(u2["assigned_to"].is_null());
  EXPECT_EQ(u2["notes"].size(), 2u);
  EXPECT_EQ(u2["metadata"], (json{{"a", 1}, {"b", 3}, {"c", 4}}));
  EXPECT_GE(u2["updated_at"].get<std::string>(), l["updated_at"].get<std::string>());
}

TEST_F(DbPoolTest, AnalysisSetsScore) {
  PIXELCRAFT_REQUIRE_PG();
  auto l = insert(lead("Fay", "fay@example.com", 10));
  auto analysis = json{{"lead_score", {{"score", 77}}}, {"method", "rules"}};
  auto u =
      json::parse(call(nullptr, lead_anl_atom_v, l["lead_id"].get<std::string>(), analysis.dump()));
  EXPECT_EQ(u["lead_score"], 77);
  EXPECT_EQ(u["analysis"], analysis);
}

TEST_F(DbPoolTest, ApprovalsCarryTheirDocumentAndTypedFieldsAlike) {
  PIXELCRAFT_REQUIRE_PG();
  approval_request in;
  in.tool = "send_marketing_proposal";
  in.effect = "send";
  in.agent_type = "digital_marketing";
  in.arguments = R"({"to_email":"ann@example.com"})";
  in.reason = "outside the company";
  in.workflow_id = "run-1";
  in.step = 2;
  in.owner_id = "owner-a";
  in.dedupe_key = "run-1:2:digital_marketing:send_marketing_proposal:x";
  auto a = call<approval>(nullptr, appr_add_atom_v, in);
  auto doc = json::parse(a.document);
  EXPECT_EQ(doc["approval_id"], a.id);
  EXPECT_EQ(a.state, "pending");
  EXPECT_FALSE(a.decided());
  EXPECT_EQ(a.tool, in.tool);
  EXPECT_EQ(a.agent_type, in.agent_type);
  EXPECT_EQ(json::parse(a.arguments), json::parse(in.arguments));
  EXPECT_EQ(a.workflow_id, "run-1");
  EXPECT_EQ(a.step, 2);
  EXPECT_TRUE(a.result.empty());
  // The same key finds the same approval.
  EXPECT_EQ(call<approval>(nullptr, appr_add_atom_v, in).id, a.id);

  approval_decision d{a.id, true, "fine", "admin-1"};
  auto decided = call<approval>(nullptr, appr_decide_atom_v, d);
  EXPECT_EQ(decided.state, "approved");
  EXPECT_EQ(decided.note, "fine");
  EXPECT_EQ(json::parse(decided.document)["state"], "approved");
  auto done = call<approval>(nullptr, appr_result_atom_v, a.id, std::string{R"({"success":true})"});
  EXPECT_EQ(json::parse(done.result), json({{"success", true}}));

  // A replay's approval copies the decision but answers its own step as pending, typed and
  // in the document alike.
  auto copy_in = in;
  copy_in.workflow_id = "run-2";
  copy_in.dedupe_key = "run-2:2:digital_marketing:send_marketing_proposal:x";
  copy_in.copy_from = in.dedupe_key;
  auto copy = call<approval>(nullptr, appr_add_atom_v, copy_in);
  EXPECT_NE(copy.id, a.id);
  EXPECT_EQ(copy.state, "pending");
  EXPECT_TRUE(copy.result.empty());
  EXPECT_EQ(json::parse(copy.document)["state"], "pending");
  EXPECT_TRUE(json::parse(copy.document)["result"].is_null());

  approval_filter f;
  f.workflow_id = "run-1";
  auto page = call<approval_page>(nullptr, appr_list_atom_v, f);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.total, 1);
  EXPECT_EQ(page.items[0].id, a.id);
  f.workflow_id.clear();
  f.viewer = "someone-else"; // sees none of owner-a's
  EXPECT_EQ(call<approval_page>(nullptr, appr_list_atom_v, f).total, 0);
}

TEST_F(DbPoolTest, IdempotencyClaimReplayConflict) {
  PIXELCRAFT_REQUIRE_PG();
  auto begin = [&](const std::string& key, const std::string& hash) {
    return call<idempotency_claim>(nullptr, idem_begin_atom_v, std::string{"s"}, key, hash,
                                   int32_t{24});
  };
  EXPECT_EQ(begin("k1", "h1").state, "new");
  EXPECT_EQ(begin("k1", "h1").state, "in_progress");
  EXPECT_EQ(begin("k1", "h2").state, "conflict");
  EXPECT_TRUE(call<bool>(nullptr, idem_end_atom_v, std::string{"s"}, std::string{"k1"},
                         int32_t{201}, std::string{R"({"ok":1})"}));
  auto replay = begin("k1", "h1");
  EXPECT_EQ(replay.state, "replay");
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, R"({"ok":1})");
  // A dropped claim can be taken again.
  EXPECT_EQ(begin("k2", "h").state, "new");
  EXPECT_TRUE(call<bool>(nullptr, idem_drop_atom_v, std::string{"s"}, std::string{"k2"}));
  EXPECT_EQ(begin("k2", "h").state, "new");
}

// A run whose lease another node took over (a zombie back from a freeze) records no new call
// in the step journal, so it never sends one (API.md §14: the epoch fences it out).
TEST_F(DbPoolTest, TheJournalRefusesARunWhoseLeaseMovedOn) {
  PIXELCRAFT_REQUIRE_PG();
  auto conversation = call<conversation_opened>(
      nullptr, conv_open_atom_v, conversation_access{"", "user-1", false}, std::string{"chat"});
  run_spec spec;
  spec.workflow_type = "sequential";
  spec.participating_agents = {"chat"};
  spec.conversation_id = conversation.conversation_id;
  spec.owner_id = "user-1";
  auto id = call<run_row>(nullptr, run_new_atom_v, spec).workflow_id;
  auto claim = [&](const std::string& node) {
    caf::error err;
    auto epoch = call<int64_t>(&err, run_claim_atom_v, run_claim{id, node, 30, false});
    return err ? int64_t{-1} : epoch;
  };
  auto first = claim("a:1");
  ASSERT_GT(first, 0);
  journal_call j;
  j.workflow_id = id;
  j.step = 1;
  j.agent = "chat";
  j.call_key = "send_email:abc";
  j.name = "send_email";
  j.lease_epoch = first;
  EXPECT_EQ(call<journal_entry>(nullptr, journal_begin_atom_v, j).status, "new");
  // Another node takes the execution over (the lease expired while "a:1" was frozen).
  pqxx_exec("UPDATE workflow_executions SET lease_expires_at = now() - interval '1 second'"
            " WHERE id = '" +
            id + "'");
  auto second = claim("b:2");
  ASSERT_GT(second, first);
  j.call_key = "send_email:def";
  caf::error err;
  call<journal_entry>(&err, journal_begin_atom_v, j);
  EXPECT_EQ(err, errc::aborted) << caf::to_string(err);
  j.lease_epoch = second; // the new owner may
  EXPECT_EQ(call<journal_entry>(nullptr, journal_begin_atom_v, j).status, "new");
}

TEST_F(DbPoolTest, StepSavesOfManyExecutionsCommitTogetherAndAStaleOneFailsAlone) {
  PIXELCRAFT_REQUIRE_PG();
  auto create = [&] {
    run_spec spec;
    spec.workflow_type = "sequential";
    spec.participating_agents = {"chat"};
    spec.owner_id = "user-1";
    return call<run_row>(nullptr, run_new_atom_v, spec).workflow_id;
  };
  auto claim = [&](const std::string& id) {
    return call<int64_t>(nullptr, run_claim_atom_v, run_claim{id, "a:1", 30, false});
  };
  std::vector<std::string> ids;
  std::vector<int64_t> epochs;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(create());
    epochs.push_back(claim(ids.back()));
  }
  // 20 executions save 10 steps each at once (three events a save); every 7th save of the
  // 5th execution carries a stale epoch (its lease moved on) and must fail alone.
  using reply =
      decltype(self->request(pool, std::chrono::seconds(30), run_save_atom_v, run_save{}));
  std::vector<std::pair<size_t, reply>> pending;
  for (int step = 0; step < 10; ++step)
    for (size_t w = 0; w < ids.size(); ++w) {
      bool stale = w == 4 && step % 7 == 3;
      run_save save;
      save.workflow_id = ids[w];
      save.lease_epoch = stale ? epochs[w] - 1 : epochs[w];
      save.current_state = "running";
      save.current_step = step;
      auto data = json{{"step", step}}.dump();
      save.events = {{0, "step_started", data, ""},
                     {0, "output_delta", R"({"text":"x"})", ""},
                     {0, "step_completed", data, ""}};
      pending.emplace_back(w + (stale ? 1000 : 0),
                           self->request(pool, std::chrono::seconds(30), run_save_atom_v, save));
    }
  int stored = 0, refused = 0;
  for (auto& [tag, rh] : pending)
    rh.receive(
        [&, tag = tag](run_saved& out) {
          EXPECT_LT(tag, 1000u) << out.execution;
          EXPECT_EQ(json::parse(out.execution)["workflow_id"], ids[tag % 1000]);
          EXPECT_EQ(out.events.size(), 3u);
          ++stored;
        },
        [&, tag = tag](caf::error& err) {
          EXPECT_GE(tag, 1000u) << caf::to_string(err);
          EXPECT_EQ(err, errc::aborted) << caf::to_string(err);
          ++refused;
        });
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(stored, 199);
  // Each execution's events are numbered 1..N without a gap or a repeat.
  pqxx::connection c{dsn};
  pqxx::read_transaction t{c};
  for (size_t w = 0; w < ids.size(); ++w) {
    auto row =
        t.exec1("SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0),"
                " (SELECT last_event_seq FROM workflow_executions WHERE id = '" +
                ids[w] + "') FROM workflow_events WHERE workflow_execution_id = '" + ids[w] + "'");
    auto expected = w == 4 ? 27 : 30;
    EXPECT_EQ(row[0].as<int>(), expected) << ids[w];
    EXPECT_EQ(row[1].as<int>(), expected) << ids[w];
    EXPECT_EQ(row[2].as<int>(), expected) << ids[w];
    EXPECT_EQ(row[3].as<int>(), expected) << ids[w];
  }
}

TEST_F(DbPoolTest, AFreshClaimMovesTheEpochOnEvenForTheNodeThatHoldsTheLease) {
  PIXELCRAFT_REQUIRE_PG();
  run_spec spec;
  spec.workflow_type = "sequential";
  spec.participating_agents = {"chat"};
  auto id = call<run_row>(nullptr, run_new_atom_v, spec).workflow_id;
  auto claim = [&](bool fresh) {
    return call<int64_t>(nullptr, run_claim_atom_v, run_claim{id, "a:1", 30, fresh});
  };
  auto first = claim(true);
  EXPECT_EQ(claim(false), first); // a renewal keeps it
  auto second = claim(true);      // a new run of the same node: what the old one queued is stale
  EXPECT_EQ(second, first + 1);
  caf::error err;
  run_save stale;
  stale.workflow_id = id;
  stale.lease_epoch = first;
  stale.current_state = "running";
  call<run_saved>(&err, run_save_atom_v, stale);
  EXPECT_EQ(err, errc::aborted) << caf::to_string(err);
  // A save's text is cleaned on the way (a NUL from a model), as every other write's.
  run_save save = stale;
  save.lease_epoch = second;
  save.events = {{0, "output_delta", json{{"text", std::string{"a\0b", 3}}}.dump(), ""}};
  auto saved = call<run_saved>(nullptr, run_save_atom_v, save);
  ASSERT_EQ(saved.events.size(), 1u);
  EXPECT_EQ(json::parse(saved.events[0].data)["text"], "a\xEF\xBF\xBD"
                                                       "b");
  // And stored so: the monitor's catch-up reads the same.
  auto stored = call<std::vector<run_event>>(nullptr, run_events_atom_v, id, int64_t{0});
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(json::parse(stored[0].data)["text"], "a\xEF\xBF\xBD"
                                                 "b");
}

TEST_F(DbPoolTest, AStepsMemoryWriteIsStoredWithItsSaveOrNotAtAll) {
  PIXELCRAFT_REQUIRE_PG();
  run_spec spec;
  spec.workflow_type = "sequential";
  spec.participating_agents = {"chat"};
  spec.owner_id = "user-1";
  auto id = call<run_row>(nullptr, run_new_atom_v, spec).workflow_id;
  auto epoch = call<int64_t>(nullptr, run_claim_atom_v, run_claim{id, "a:1", 30, true});
  run_save save;
  save.workflow_id = id;
  save.lease_epoch = epoch;
  save.current_state = "running";
  save.current_step = 1;
  save.execution_path = R"(["chat"])";
  save.events = {{0, "step_completed", R"({"agent":"chat"})", ""}};
  save.memory_agent = "chat";
  save.memory_value = R"({"summary":"first"})";
  auto first = call<run_saved>(nullptr, run_save_atom_v, save);
  EXPECT_EQ(first.memory.key, "chat");
  EXPECT_EQ(first.memory.scope, "workflow");
  EXPECT_EQ(first.memory.version, 1);
  EXPECT_EQ(first.memory.created_by_agent, "chat");
  // Its event comes after the save's own, numbered with them.
  ASSERT_EQ(first.events.size(), 2u);
  EXPECT_EQ(first.events[1].event_type, "memory_updated");
  EXPECT_EQ(first.events[1].seq, first.events[0].seq + 1);
  EXPECT_EQ(
      json::parse(first.events[1].data),
      (json{{"key", "chat"}, {"scope", "workflow"}, {"version", 1}, {"created_by_agent", "chat"}}));
  // The next step's save of the same key, carrying the start of the step after it: the
  // version moves on, its event goes where the save says (after the step's own), and the store
  // reads the value back.
  save.memory_value = R"({"summary":"second"})";
  save.events.push_back({0, "step_started", R"({"agent":"next"})", ""});
  save.memory_event_at = 1;
  auto second = call<run_saved>(nullptr, run_save_atom_v, save);
  EXPECT_EQ(second.memory.version, 2);
  ASSERT_EQ(second.events.size(), 3u);
  EXPECT_EQ(second.events[1].event_type, "memory_updated");
  EXPECT_EQ(second.events[2].event_type, "step_started");
  EXPECT_EQ(second.events[2].seq, first.events[1].seq + 3);
  auto read = call<memory_entry>(nullptr, mem_get_atom_v, memory_key{"workflow", id, "chat", id});
  EXPECT_EQ(json::parse(read.value)["summary"], "second");
  EXPECT_EQ(read.version, 2);
  // A save refused for its lease writes no memory either.
  save.lease_epoch = epoch - 1;
  save.memory_value = R"({"summary":"stale"})";
  caf::error err;
  call<run_saved>(&err, run_save_atom_v, save);
  EXPECT_EQ(err, errc::aborted) << caf::to_string(err);
  read = call<memory_entry>(nullptr, mem_get_atom_v, memory_key{"workflow", id, "chat", id});
  EXPECT_EQ(json::parse(read.value)["summary"], "second");
  EXPECT_EQ(read.version, 2);
  auto events = call<std::vector<run_event>>(nullptr, run_events_atom_v, id, int64_t{0});
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[3].event_type, "memory_updated");
}

TEST_F(DbPoolTest, ConversationStoreOwnsReadsAndForgets) {
  PIXELCRAFT_REQUIRE_PG();
  conversation_access ann{"", "ann", false};
  auto opened = call<conversation_opened>(nullptr, conv_open_atom_v, ann, std::string{"chat"});
  ASSERT_TRUE(opened.created);
  ASSERT_EQ(opened.conversation_id.size(), 36u); // a random UUID
  ann.conversation_id = opened.conversation_id;
  // Someone else's conversation is not found; the owner and admins may open it again.
  caf::error err;
  call<conversation_opened>(&err, conv_open_atom_v,
                            conversation_access{opened.conversation_id, "bob", false},
                            std::string{"chat"});
  EXPECT_TRUE(err == errc::not_found) << caf::to_string(err);
  EXPECT_FALSE(
      call<conversation_opened>(nullptr, conv_open_atom_v, ann, std::string{"chat"}).created);
  EXPECT_FALSE(call<conversation_opened>(nullptr, conv_open_atom_v,
                                         conversation_access{opened.conversation_id, "root", true},
                                         std::string{"chat"})
                   .created);
  // Messages: text is stored safely (a NUL becomes U+FFFD), tokens are optional.
  new_chat_message m{opened.conversation_id, "user", std::string{"hi\0there", 8}, "chat"};
  EXPECT_TRUE(call<bool>(nullptr, msg_add_atom_v, m));
  m.role = "assistant";
  m.content = "hello";
  m.metadata = R"({"tokens_in": 3})";
  m.tokens_in = 3;
  m.tokens_out = 2;
  EXPECT_TRUE(call<bool>(nullptr, msg_add_atom_v, m));
  m.role = "system";
  m.content = "not remembered";
  m.metadata = "not json";
  EXPECT_TRUE(call<bool>(nullptr, msg_add_atom_v, m));
  auto recent =
      call<std::vector<chat_line>>(nullptr, conv_recent_atom_v, opened.conversation_id, 10);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].role, "user");
  EXPECT_EQ(recent[0].content, "hi\xef\xbf\xbdthere");
  EXPECT_EQ(recent[1].content, "hello");
  EXPECT_EQ(call<std::vector<chat_line>>(nullptr, conv_recent_atom_v, opened.conversation_id, 1)
                .back()
                .content,
            "hello");
  auto page = json::parse(call(nullptr, conv_read_atom_v, ann, int32_t{2}, int32_t{1}));
  EXPECT_EQ(page["total"], 3);
  ASSERT_EQ(page["messages"].size(), 2u);
  EXPECT_EQ(page["messages"][0]["role"], "assistant");
  call(&err, conv_read_atom_v, conversation_access{opened.conversation_id, "bob", false},
       int32_t{10}, int32_t{0});
  EXPECT_TRUE(err == errc::not_found);
  // Agent logs and their metrics.
  agent_log_entry e;
  e.agent_type = "chat";
  e.action = "chat";
  e.conversation_id = opened.conversation_id;
  e.output_data = R"({"ok": true})";
  e.execution_time_ms = 12.5;
  e.status = "success";
  EXPECT_TRUE(call<bool>(nullptr, log_add_atom_v, e));
  e.status = "error";
  e.error_message = "model unavailable";
  EXPECT_TRUE(call<bool>(nullptr, log_add_atom_v, e));
  auto metrics = json::parse(call(nullptr, agent_metrics_atom_v));
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0]["agent_id"], "chat");
  EXPECT_EQ(metrics[0]["total_interactions"], 2);
  EXPECT_DOUBLE_EQ(metrics[0]["success_rate"].get<double>(), 0.5);
  // Deleting: not someone else's; the owner's removes every message.
  call<int64_t>(&err, conv_delete_atom_v,
                conversation_access{opened.conversation_id, "bob", false});
  EXPECT_TRUE(err == errc::not_found);
  EXPECT_EQ(call<int64_t>(nullptr, conv_delete_atom_v, ann), 3);
  EXPECT_TRUE(call<std::vector<chat_line>>(nullptr, conv_recent_atom_v, opened.conversation_id, 10)
                  .empty());
}

TEST(DbPoolUnavailableTest, UnreachableDatabaseFailsFastAsUnavailable) {
  struct cfg_t : caf::actor_system_config {
    cfg_t() { register_types(*this); }
  } cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto pool = persistence::spawn_db_pool(sys, {"postgresql://postgres@127.0.0.1:1/x", 1, 1000, 1});
  for (int i = 0; i < 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    self->request(pool, std::chrono::seconds(10), ping_atom_v)
        .receive([](db_ping&) { ADD_FAILURE() << "ping succeeded"; },
                 [](caf::error& e) { EXPECT_TRUE(e == errc::unavailable) << caf::to_string(e); });
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  }
  auto empty = persistence::spawn_db_pool(sys, {"", 1, 1000, 1});
  self->request(empty, std::chrono::seconds(5), ping_atom_v)
      .receive([](db_ping&) { ADD_FAILURE(); },
               [](caf::error& e) { EXPECT_TRUE(e == errc::unavailable) << caf::to_string(e); });
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(empty, caf::exit_reason::user_shutdown);
}
