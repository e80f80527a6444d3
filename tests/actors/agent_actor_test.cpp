// Agent actors on CAF's test coordinator (STYLE.md §8), with in-memory stand-ins behind the
// typed database and model handles: no database, no sleeps, virtual time only.
#include "actors/agents/agent_catalog.hpp"
#include "actors/agents/agent_registry.hpp"
#include "actors/errc.hpp"
#include "actors/llm_actor.hpp"
#include "actors/messages.hpp"
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

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace pixelcraft;
using nlohmann::json;

namespace {

/// A model that answers only when the test says so (`ok_atom`, index, reply): every call is
/// held with its request. Promises are delivered inside the actor, as CAF requires.
struct model_standin_state {
  std::vector<std::pair<json, caf::typed_response_promise<model_reply>>> held;
  static inline const char* name = "test.model";
};

using model_standin_actor = llm_actor::extend<caf::reacts_to<caf::ok_atom, uint32_t, model_reply>>;
using model_pointer = model_standin_actor::stateful_pointer<model_standin_state>;

model_standin_actor::behavior_type model_standin(model_pointer self) {
  return {
      [self](caf::ok_atom, uint32_t index, const model_reply& reply) {
        self->state.held.at(index).second.deliver(reply);
      },
      [self](llm_chat_atom, const std::string& request,
             const caf::actor&) -> caf::result<model_reply> {
        auto rp = self->make_response_promise<model_reply>();
        self->state.held.emplace_back(json::parse(request), rp);
        return rp;
      },
      [](llm_stats_atom) { return std::string{R"({"models":[]})"}; },
      [](load_atom) { return int32_t{0}; },
  };
}

/// The database as the agents use it: nothing stored yet, every write accepted.
caf::behavior db_standin() {
  return test::db_standin_behavior();
}

model_reply model_answer(const std::string& content) {
  model_reply r;
  r.content = content;
  r.model = "test-model";
  r.provider = "ollama";
  r.tokens_in = 3;
  r.tokens_out = 2;
  r.latency_ms = 1.0;
  r.ttft_ms = 1.0;
  return r;
}

class AgentActorTest : public test::CoordinatorTest {
protected:
  model_pointer model = nullptr;
  model_standin_actor model_handle;
  db_actor db;
  agent_registry_actor registry;
  std::string a, b; ///< two agents of the catalogue
  static constexpr unsigned idle_s = 10;

  void SetUp() override {
    std::string error;
    agent_registry_options opts;
    opts.catalog = agent_catalog::load(agent_catalog::builtin_json(), "test-model", error);
    ASSERT_TRUE(opts.catalog) << error;
    a = opts.catalog->all().at(0).id;
    b = opts.catalog->all().at(1).id;
    model_handle = sys.spawn(model_standin);
    model = caf::actor_cast<model_pointer>(model_handle);
    db = caf::actor_cast<db_actor>(sys.spawn(db_standin));
    opts.llm = caf::actor_cast<llm_actor>(model_handle);
    opts.db = db;
    opts.settings.agent_idle_s = idle_s; // shorter than a model call may take
    registry = spawn_agent_registry(sys, opts);
    sched.run();
  }

  void TearDown() override { end(registry, db, model_handle); }

  agent_turn step(const std::string& agent, const std::string& message) const {
    agent_turn t;
    t.agent_type = agent;
    t.message = message;
    t.action = "workflow_step";
    t.workflow_id = "wf-1";
    t.participants = {a, b};
    return t;
  }

  workflow_agent_actor peer(const std::string& agent) {
    auto rh = self->request(registry, std::chrono::seconds(3600), agent_peer_atom_v, agent,
                            std::string{"wf-1"});
    sched.run();
    workflow_agent_actor out;
    rh.receive([&](caf::actor& h) { out = caf::actor_cast<workflow_agent_actor>(h); },
               [](caf::error& e) { FAIL() << caf::to_string(e); });
    return out;
  }

  agent_message peer_message(const std::string& id) const {
    agent_message m;
    m.message_id = id;
    m.workflow_id = "wf-1";
    m.from_agent = a;
    m.to_agent = b;
    m.message_type = "request";
    m.content = R"({"text":"please check the budget"})";
    return m;
  }
};

} // namespace

TEST_F(AgentActorTest, APeersMessageIsAcknowledgedWhileTheModelIsStillAnswering) {
  auto target = peer(b);
  auto turn = self->request(registry, std::chrono::seconds(3600), chat_atom_v, step(b, "first"),
                            caf::actor{});
  sched.run();
  ASSERT_EQ(model->state.held.size(), 1u); // the step is waiting for its model
  // The agent serves its mailbox while the model call is open: the peer's 100 ms deadline holds
  // (an agent that awaited its model would let it expire).
  auto ack =
      self->request(target, std::chrono::milliseconds(100), amsg_atom_v, peer_message("m-1"));
  sched.run();
  sched.advance_time(std::chrono::seconds(1));
  sched.run();
  std::string acked;
  ack.receive([&](std::string& id) { acked = id; },
              [](caf::error& e) { FAIL() << "not acknowledged in 100 ms: " << caf::to_string(e); });
  EXPECT_EQ(acked, "m-1");
  auto count = self->request(target, std::chrono::seconds(3600), inbox_atom_v);
  sched.run();
  count.receive([](uint32_t n) { EXPECT_EQ(n, 1u); },
                [](caf::error& e) { FAIL() << caf::to_string(e); });
  EXPECT_EQ(model->state.held.size(), 1u);
  // The step then finishes normally.
  caf::anon_send(model_handle, caf::ok_atom_v, uint32_t{0}, model_answer("done"));
  sched.run();
  turn.receive([](agent_reply& r) { EXPECT_EQ(r.response, "done"); },
               [](caf::error& e) { FAIL() << caf::to_string(e); });
}

TEST_F(AgentActorTest, TurnsAreServedOneAtATimeInOrderAndTheNextStepSeesTheInbox) {
  auto target = peer(b);
  auto first = self->request(registry, std::chrono::seconds(3600), chat_atom_v, step(b, "first"),
                             caf::actor{});
  auto second = self->request(registry, std::chrono::seconds(3600), chat_atom_v, step(b, "second"),
                              caf::actor{});
  sched.run();
  ASSERT_EQ(model->state.held.size(), 1u); // the second turn waits for the first
  EXPECT_EQ(model->state.held[0].first["messages"].back()["content"], "first");
  auto ack = self->request(target, std::chrono::seconds(3600), amsg_atom_v, peer_message("m-2"));
  sched.run();
  ack.receive([](std::string&) {}, [](caf::error& e) { FAIL() << caf::to_string(e); });
  caf::anon_send(model_handle, caf::ok_atom_v, uint32_t{0}, model_answer("one"));
  sched.run();
  first.receive([](agent_reply& r) { EXPECT_EQ(r.response, "one"); },
                [](caf::error& e) { FAIL() << caf::to_string(e); });
  ASSERT_EQ(model->state.held.size(), 2u);
  // The message that arrived during the first step is in the second step's context.
  const auto& req = model->state.held[1].first;
  EXPECT_NE(req.dump().find("m-2"), std::string::npos) << req.dump();
  EXPECT_EQ(req["messages"].back()["content"], "second");
  caf::anon_send(model_handle, caf::ok_atom_v, uint32_t{1}, model_answer("two"));
  sched.run();
  second.receive(
      [](agent_reply& r) {
        EXPECT_EQ(r.response, "two");
        EXPECT_EQ(r.messages_processed, std::vector<std::string>{"m-2"});
      },
      [](caf::error& e) { FAIL() << caf::to_string(e); });
}

TEST_F(AgentActorTest, AMessageSentAgainIsAcknowledgedAndQueuedOnce) {
  auto target = peer(b);
  for (int i = 0; i < 2; ++i) { // a sender whose acknowledgement was lost sends it again
    auto ack = self->request(target, std::chrono::seconds(3600), amsg_atom_v, peer_message("m-7"));
    sched.run();
    ack.receive([](std::string& id) { EXPECT_EQ(id, "m-7"); },
                [](caf::error& e) { FAIL() << caf::to_string(e); });
  }
  auto count = self->request(target, std::chrono::seconds(3600), inbox_atom_v);
  sched.run();
  count.receive([](uint32_t n) { EXPECT_EQ(n, 1u); },
                [](caf::error& e) { FAIL() << caf::to_string(e); });
}

TEST_F(AgentActorTest, AnIdleAgentIsPassivatedButNotDuringAStep) {
  auto target = peer(b);
  auto turn = self->request(registry, std::chrono::seconds(3600), chat_atom_v, step(b, "long"),
                            caf::actor{});
  sched.run();
  // Far past the idle time with the step still open: the actor stays.
  sched.advance_time(std::chrono::seconds(idle_s * 3));
  sched.run();
  ASSERT_EQ(model->state.held.size(), 1u);
  caf::anon_send(model_handle, caf::ok_atom_v, uint32_t{0}, model_answer("late"));
  sched.run();
  turn.receive([](agent_reply&) {}, [](caf::error& e) { FAIL() << caf::to_string(e); });
  auto same = peer(b);
  EXPECT_EQ(caf::actor_cast<caf::actor>(same), caf::actor_cast<caf::actor>(target));
  // Idle after its last step: passivated, and the next use gets a fresh actor.
  sched.advance_time(std::chrono::seconds(idle_s + 1));
  sched.run();
  auto fresh = peer(b);
  EXPECT_NE(caf::actor_cast<caf::actor>(fresh), caf::actor_cast<caf::actor>(target));
}
