// The agent-message mirror on CAF's test coordinator (STYLE.md §8), with an in-memory
// `agent_messages` table behind the typed database handle: no database, no sleeps.
#include "actors/agent_message.hpp"
#include "actors/errc.hpp"
#include "persistence/message_mirror.hpp"
#include "tests/support/actor_test.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

using namespace pixelcraft;
using nlohmann::json;

namespace {

/// `agent_messages` in memory. A batch holding a row from agent "refused" fails as a whole,
/// as PostgreSQL fails a statement; every `amsg_write` is counted.
struct table_state {
  std::map<std::string, std::string> status; ///< message id -> status
  int writes = 0;
  static inline const char* name = "test.agent-messages";
};

caf::behavior table_standin(caf::stateful_actor<table_state>* self) {
  return test::db_standin_behavior([self](amsg_write_atom,
                                          const agent_message_batch& b) -> caf::result<bool> {
    auto& st = self->state;
    ++st.writes;
    for (const auto& m : b.rows)
      if (m.from_agent == "refused")
        return caf::make_error(errc::invalid_argument, "row refused");
    auto rank = [](const std::string& s) { return s == "pending" ? 0 : s == "delivered" ? 1 : 2; };
    for (const auto& m : b.rows)
      st.status[m.message_id] = m.status;
    for (size_t i = 0; i < b.status_ids.size(); ++i) {
      auto it = st.status.find(b.status_ids[i]);
      if (it != st.status.end() && rank(b.statuses[i]) > rank(it->second))
        it->second = b.statuses[i];
    }
    return true;
  });
}

class MirrorActorTest : public test::CoordinatorTest {
protected:
  db_actor table;
  message_mirror_actor mirror;

  void SetUp() override {
    table = caf::actor_cast<db_actor>(sys.spawn(table_standin));
    message_mirror_options opts;
    opts.db = table;
    mirror = spawn_message_mirror(sys, opts);
    sched.run();
  }

  void TearDown() override { end(mirror, table); }

  table_state& stored() { return caf::actor_cast<caf::stateful_actor<table_state>*>(table)->state; }

  static agent_message message(const std::string& from = "chat") {
    outgoing_message out;
    out.from_agent = from;
    out.to_agent = "web_development";
    out.message_type = "request";
    out.content = R"({"question":"Which CMS?"})";
    return make_agent_message(out, "0b7f5a60-1c2d-4e3f-8a9b-0c1d2e3f4a5b");
  }

  bool flush() {
    auto rh = self->request(mirror, std::chrono::seconds(3600), mirror_flush_atom_v);
    sched.run();
    bool ok = false;
    rh.receive([&](bool b) { ok = b; }, [](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
    return ok;
  }
};

} // namespace

TEST_F(MirrorActorTest, MessagesArriveInOneBatchWithTheirNewestStatus) {
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto m = message();
    ids.push_back(m.message_id);
    caf::anon_send(mirror, mirror_put_atom_v, m);
    caf::anon_send(mirror, mirror_status_atom_v, std::vector<std::string>{m.message_id},
                   std::string{i % 2 ? "processed" : "delivered"});
    caf::anon_send(mirror, mirror_status_atom_v, std::vector<std::string>{m.message_id},
                   std::string{"pending"}); // backwards: ignored
  }
  sched.run(); // everything is queued: the linger timer is armed
  sched.advance_time(std::chrono::seconds(1));
  sched.run();
  EXPECT_EQ(stored().writes, 1); // one statement for all fifty
  ASSERT_EQ(stored().status.size(), 50u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(stored().status[ids[i]], i % 2 ? "processed" : "delivered") << i;
  EXPECT_TRUE(flush());
}

TEST_F(MirrorActorTest, ARefusedRowFailsAloneAndItsWaiterHearsIt) {
  auto bad = message("refused");
  std::vector<agent_message> good;
  for (int i = 0; i < 5; ++i) {
    good.push_back(message());
    caf::anon_send(mirror, mirror_put_atom_v, good.back());
  }
  auto refused = self->request(mirror, std::chrono::seconds(3600), mirror_store_atom_v, bad);
  auto kept = self->request(mirror, std::chrono::seconds(3600), mirror_store_atom_v, message());
  sched.run();
  sched.advance_time(std::chrono::seconds(1));
  sched.run();
  refused.receive([](bool) { ADD_FAILURE() << "a refused row was reported stored"; },
                  [](caf::error& e) { EXPECT_TRUE(e == errc::invalid_argument); });
  kept.receive([](bool ok) { EXPECT_TRUE(ok); },
               [](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
  EXPECT_EQ(stored().status.size(), 6u); // the five puts and the kept store
  EXPECT_EQ(stored().status.count(bad.message_id), 0u);
  EXPECT_TRUE(flush()); // another row's refusal does not fail a flush
}

TEST_F(MirrorActorTest, AMessageWithANulIsRefusedBeforeItJoinsABatch) {
  auto m = message();
  m.content = R"({"text":"a\u0000b"})";
  auto rh = self->request(mirror, std::chrono::seconds(3600), mirror_store_atom_v, m);
  sched.run();
  rh.receive([](bool) { ADD_FAILURE() << "stored"; },
             [](caf::error& e) { EXPECT_TRUE(e == errc::invalid_argument); });
  EXPECT_EQ(stored().writes, 0);
}
