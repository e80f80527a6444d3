// The workflow manager and its run actors on CAF's test coordinator (STYLE.md §8), with an
// in-memory database and agent registry behind the typed handles: no database, no sleeps.
#include "actors/errc.hpp"
#include "tests/support/actor_test.hpp"
#include "workflows/workflow_manager.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

using namespace pixelcraft;
using nlohmann::json;

namespace {

const std::string wf_id = "0b7f5a60-1c2d-4e3f-8a9b-0c1d2e3f4a5b";

/// One execution kept in memory, as persistence/ stores it. Claims and saves can be held until
/// the test releases them (`ok_atom`), to look at what the run actor does meanwhile.
struct store_state {
  run_row row;
  std::vector<std::string> events; ///< event types, in the order saves stored them
  bool hold_claims = false;
  bool hold_saves = false;
  std::deque<caf::typed_response_promise<int64_t>> held_claims;
  std::deque<std::pair<run_save, caf::typed_response_promise<run_saved>>> held_saves;
  size_t max_held_saves = 0;
  int saves_seen = 0;
  int fail_save = 0; ///< this save (1 = the first) fails, as when the database is away
  int claims = 0;
  std::map<std::string, int64_t> memory_versions; ///< of the steps' memory writes, by agent
  std::vector<std::string> memory_saved_with;     ///< per memory write: the event it follows
  int saves_stored = 0;
  static inline const char* name = "test.workflow-store";

  size_t held() const { return held_claims.size() + held_saves.size(); }

  /// The execution's document, as `pixelcraft_workflow_json` renders it.
  std::string document() const {
    return json{{"workflow_id", row.workflow_id},
                {"workflow_type", row.workflow_type},
                {"participating_agents", row.participating_agents},
                {"current_state", row.current_state},
                {"execution_path", json::parse(row.execution_path)},
                {"results", json::parse(row.results)}}
        .dump();
  }

  run_saved save(const run_save& x) {
    row.current_state = x.current_state;
    row.execution_path = x.execution_path;
    row.results = x.results;
    ++saves_stored;
    run_saved out;
    auto events = x.events;
    if (!x.memory_agent.empty()) { // as the store does: the write and its event, together
      auto at = std::min<size_t>(x.memory_event_at, events.size());
      memory_saved_with.push_back(at == 0 ? "" : events[at - 1].event_type);
      out.memory = {
          x.memory_agent, x.memory_value,         "workflow", ++memory_versions[x.memory_agent],
          x.memory_agent, "2026-12-04T10:00:00Z", ""};
      events.insert(events.begin() + static_cast<std::ptrdiff_t>(at),
                    run_event{0, "memory_updated", "{}", {}});
    }
    for (const auto& e : events) {
      this->events.push_back(e.event_type);
      out.events.push_back({static_cast<int64_t>(this->events.size()), e.event_type, e.data,
                            "2026-12-04T10:00:00Z"});
    }
    row.execution = document();
    out.execution = row.execution;
    return out;
  }

  /// The path stored, as a JSON array.
  json path() const { return json::parse(row.execution_path); }
};

using store_actor = db_actor::extend<caf::reacts_to<caf::ok_atom>>;
using store_pointer = caf::stateful_actor<store_state>*;

caf::behavior store_standin(store_pointer self) {
  return test::db_standin_behavior(
      [self](run_new_atom, const run_spec& spec) {
        auto& st = self->state;
        st.row = run_row{};
        st.row.workflow_id = wf_id;
        st.row.workflow_type = spec.workflow_type;
        st.row.participating_agents = spec.participating_agents;
        st.row.input_data = R"({"message":"Plan the launch"})";
        st.row.current_state = "pending";
        st.row.execution = st.document();
        return st.row;
      },
      [self](run_load_atom, const std::string&) { return self->state.row; },
      [self](run_claim_atom, const run_claim&) -> caf::result<int64_t> {
        auto& st = self->state;
        if (st.hold_claims) {
          auto rp = self->make_response_promise<int64_t>();
          st.held_claims.push_back(rp);
          return rp;
        }
        ++st.claims;
        return int64_t{1};
      },
      [self](run_save_atom, run_save& x) -> caf::result<run_saved> {
        auto& st = self->state;
        if (st.hold_saves) {
          auto rp = self->make_response_promise<run_saved>();
          st.held_saves.emplace_back(std::move(x), rp);
          st.max_held_saves = std::max(st.max_held_saves, st.held_saves.size());
          return rp;
        }
        if (++st.saves_seen == st.fail_save)
          return caf::make_error(errc::unavailable, "database unavailable");
        return st.save(x);
      },
      [self](caf::ok_atom) { // answers the oldest held request
        auto& st = self->state;
        if (!st.held_claims.empty()) {
          auto rp = std::move(st.held_claims.front());
          st.held_claims.pop_front();
          rp.deliver(int64_t{1});
          return;
        }
        if (st.held_saves.empty())
          return;
        auto [x, rp] = std::move(st.held_saves.front());
        st.held_saves.pop_front();
        rp.deliver(st.save(x));
      });
}

/// Agents that answer every step at once.
agent_registry_actor::behavior_type agents_standin() {
  return {
      [](chat_atom, const agent_turn& t, const caf::actor&) {
        agent_reply r;
        r.response = "done by " + t.agent_type;
        r.agent_type = t.agent_type;
        r.meta.model_used = "test-model";
        return r;
      },
      [](forget_atom, const std::string&) {},
      [](agent_peer_atom, const std::string&, const std::string&) -> caf::result<caf::actor> {
        return caf::make_error(errc::not_found, "no peers here");
      },
      [](agents_atom) { return std::vector<agent_instances>{}; },
      [](load_atom) { return int32_t{0}; },
  };
}

class RunActorTest : public test::CoordinatorTest {
protected:
  store_actor store;
  store_pointer db = nullptr;
  agent_registry_actor agents;
  workflow_manager_actor manager;

  void SetUp() override {
    store = caf::actor_cast<store_actor>(sys.spawn(store_standin));
    db = caf::actor_cast<store_pointer>(store);
    agents = sys.spawn(agents_standin);
    workflows::manager_options opts;
    opts.db = caf::actor_cast<db_actor>(store);
    opts.agents = agents;
    opts.node_id = "test-node";
    manager = workflows::spawn_workflow_manager(sys, opts);
    sched.run();
  }

  void TearDown() override { end(manager, agents, store); }

  void start() {
    run_spec spec;
    spec.workflow_type = "sequential";
    spec.participating_agents = {"chat", "brand_design"};
    auto rh = self->request(manager, std::chrono::seconds(3600), wf_start_atom_v, spec);
    sched.run();
    rh.receive([](run_row&) {}, [](caf::error& e) { FAIL() << caf::to_string(e); });
  }

  void release() {
    caf::anon_send(store, caf::ok_atom_v);
    sched.run();
  }
};

} // namespace

TEST_F(RunActorTest, SavesAreWrittenOneAtATimeAndInOrder) {
  db->state.hold_saves = true;
  start();
  // Release the held saves one by one: the run never has two in flight, and stores its events
  // in the order they happened.
  for (int i = 0; i < 20 && db->state.held() > 0; ++i)
    release();
  EXPECT_EQ(db->state.held(), 0u);
  EXPECT_EQ(db->state.max_held_saves, 1u);
  std::vector<std::string> expected = {"state_changed",  "step_started",  "step_completed",
                                       "memory_updated", "step_started",  "step_completed",
                                       "memory_updated", "state_changed", "workflow_completed"};
  EXPECT_EQ(db->state.events, expected);
  // Each step's outcome went to workflow memory in the save that recorded the step, and each
  // step's record rode with what followed it: three saves (start and the first step's start;
  // its end and the second's start; the second's end and the run's), not seven.
  EXPECT_EQ(db->state.memory_saved_with,
            (std::vector<std::string>{"step_completed", "step_completed"}));
  EXPECT_EQ(db->state.saves_stored, 3);
  EXPECT_EQ(db->state.memory_versions,
            (std::map<std::string, int64_t>{{"brand_design", 1}, {"chat", 1}}));
  EXPECT_EQ(db->state.row.current_state, "completed");
  EXPECT_EQ(db->state.path(), json::array({"chat", "brand_design"}));
}

TEST_F(RunActorTest, AnActionDuringTheClaimIsAnsweredFromTheLoadedExecution) {
  db->state.hold_claims = true;
  start();
  ASSERT_EQ(db->state.held_claims.size(), 1u); // the run actor is claiming the execution
  // The cancel reaches the run actor while it claims; it is answered once the execution is
  // loaded, from that state, and no step starts.
  auto cancel = self->request(manager, std::chrono::seconds(3600), wf_action_atom_v, wf_id,
                              std::string{"cancel"});
  sched.run();
  release();
  json out;
  cancel.receive([&](std::string& text) { out = json::parse(text); },
                 [](caf::error& e) { FAIL() << caf::to_string(e); });
  EXPECT_EQ(out["current_state"], "cancelled");
  std::vector<std::string> expected = {"state_changed", "workflow_cancelled"};
  EXPECT_EQ(db->state.events, expected);
}

TEST_F(RunActorTest, ARunStoppedByAFailedSaveResumesHereWithoutWaitingForItsLease) {
  db->state.fail_save = 2; // the chat step's result: the database was away for a moment
  start();
  // The run stopped; nothing after the failed save was stored.
  std::vector<std::string> before = {"state_changed", "step_started"};
  EXPECT_EQ(db->state.events, before);
  EXPECT_EQ(db->state.claims, 1);
  // A second later (not the 30 s lease) the manager runs it again: the claim keeps the lease,
  // and the run goes on from the last recorded step (here, the start) to the end.
  sched.advance_time(std::chrono::seconds(1));
  sched.run();
  EXPECT_EQ(db->state.claims, 2);
  EXPECT_EQ(db->state.row.current_state, "completed");
  EXPECT_EQ(db->state.path(), json::array({"chat", "brand_design"}));
  EXPECT_EQ(db->state.events.back(), "workflow_completed");
}
