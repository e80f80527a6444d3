// The tool actor's shared-memory tools on CAF's test coordinator (STYLE.md §8): errors are
// compared with their category, so a timeout is never read as a version mismatch.
#include "actors/agents/tool_actor.hpp"
#include "actors/errc.hpp"
#include "tests/support/actor_test.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <vector>

using namespace pixelcraft;
using nlohmann::json;

namespace {

/// How the memory stand-in answers a write.
enum class memory_mode { silent, conflict, stores };

struct memory_standin_state {
  std::vector<caf::typed_response_promise<memory_entry>> held; ///< never answered (silent)
  static inline const char* name = "test.memory";
};

memory_actor::behavior_type
memory_standin(memory_actor::stateful_pointer<memory_standin_state> self, memory_mode mode) {
  return {
      [self, mode](mem_put_atom, const memory_write& w) -> caf::result<memory_entry> {
        if (mode == memory_mode::conflict)
          return caf::make_error(errc::failed_precondition, "version mismatch");
        if (mode == memory_mode::stores) {
          memory_entry e;
          e.key = w.at.key;
          e.scope = w.at.scope;
          e.value = w.value;
          e.version = 7;
          return e;
        }
        auto rp = self->make_response_promise<memory_entry>();
        self->state.held.push_back(rp);
        return rp;
      },
      [](mem_get_atom, const memory_key&) -> caf::result<memory_entry> { return memory_entry{}; },
      [](mem_stored_atom, const memory_key&, const memory_entry&) {},
      [self](caf::get_atom) { return caf::actor_cast<caf::actor>(self); },
  };
}

/// Accepts every database request (the tool's agent_logs rows).
caf::behavior db_standin() {
  return test::db_standin_behavior();
}

class ToolActorTest : public test::CoordinatorTest {
protected:
  std::vector<caf::actor> spawned; ///< ended in TearDown: the system waits for every actor

  tool_actor spawn_tools(memory_mode mode) {
    tool_options opts;
    opts.db = caf::actor_cast<db_actor>(sys.spawn(db_standin));
    opts.memory = sys.spawn(memory_standin, mode);
    auto tools = spawn_tool_actor(sys, opts);
    for (auto a : {caf::actor_cast<caf::actor>(opts.db), caf::actor_cast<caf::actor>(opts.memory),
                   caf::actor_cast<caf::actor>(tools)})
      spawned.push_back(a);
    return tools;
  }

  void TearDown() override {
    for (auto& a : spawned)
      end(a);
  }

  static tool_call remember_call(json arguments = {
                                     {"key", "budget"}, {"value", 5000}, {"scope", "global"}}) {
    tool_call call;
    call.tool = "remember";
    call.arguments = arguments.dump();
    call.agent_type = "chat";
    call.execution_id = "e1";
    call.workflow_id = "0b7f5a60-1c2d-4e3f-8a9b-0c1d2e3f4a5b";
    call.owner_id = "owner-a";
    return call;
  }
};

} // namespace

TEST_F(ToolActorTest, AMemoryWriteThatTimesOutIsATimeoutNotAVersionMismatch) {
  // caf::sec::request_timeout and errc::failed_precondition share the number 4.
  ASSERT_EQ(static_cast<uint8_t>(caf::sec::request_timeout),
            static_cast<uint8_t>(errc::failed_precondition));
  auto tools = spawn_tools(memory_mode::silent);
  auto rh = self->request(tools, std::chrono::seconds(3600), tool_atom_v, remember_call());
  sched.run();
  // The memory never answers: the tool's own request times out (db_timeout_ms + 4 s).
  sched.advance_time(std::chrono::milliseconds(tool_settings{}.db_timeout_ms + 4001));
  sched.run();
  json result;
  rh.receive(
      [&](tool_result& r) {
        result = json::parse(r.content);
        EXPECT_FALSE(r.success);
        EXPECT_TRUE(r.memory_key.empty());
      },
      [](caf::error& e) { FAIL() << caf::to_string(e); });
  EXPECT_EQ(result["success"], false) << result;
  EXPECT_NE(result.value("error", std::string{}), "version_mismatch") << result;
}

TEST_F(ToolActorTest, AStoredValueIsReportedInTypedFieldsAndToTheModel) {
  auto tools = spawn_tools(memory_mode::stores);
  auto rh = self->request(tools, std::chrono::seconds(3600), tool_atom_v, remember_call());
  sched.run();
  tool_result r;
  rh.receive([&](tool_result& x) { r = std::move(x); },
             [](caf::error& e) { FAIL() << caf::to_string(e); });
  EXPECT_TRUE(r.success);
  EXPECT_TRUE(r.pending_approval.empty());
  EXPECT_EQ(r.memory_key, "budget");
  EXPECT_EQ(r.memory_scope, "global");
  EXPECT_EQ(r.memory_version, 7);
  auto content = json::parse(r.content); // what the model reads
  EXPECT_EQ(content["success"], true);
  EXPECT_EQ(content["version"], 7);
}

TEST_F(ToolActorTest, ACompareAndSetConflictIsAVersionMismatch) {
  auto tools = spawn_tools(memory_mode::conflict);
  auto rh = self->request(tools, std::chrono::seconds(3600), tool_atom_v, remember_call());
  sched.run();
  json result;
  rh.receive([&](tool_result& r) { result = json::parse(r.content); },
             [](caf::error& e) { FAIL() << caf::to_string(e); });
  EXPECT_EQ(result["success"], false) << result;
  EXPECT_EQ(result["error"], "version_mismatch") << result;
}

TEST_F(ToolActorTest, AnExpectedVersionBeyondWhatFitsIsNeverAnUnconditionalWrite) {
  // A model may send any whole number; one that does not fit must not turn the
  // compare-and-set into a plain write.
  auto tools = spawn_tools(memory_mode::silent); // a write that reached it would be held
  for (const char* v : {"1e30", "9223372036854775808", "9007199254740992"}) {
    auto call = remember_call({{"key", "budget"},
                               {"value", 5000},
                               {"scope", "global"},
                               {"expected_version", json::parse(v)}});
    auto rh = self->request(tools, std::chrono::seconds(3600), tool_atom_v, call);
    sched.run();
    json result;
    rh.receive([&](tool_result& r) { result = json::parse(r.content); },
               [](caf::error& e) { FAIL() << caf::to_string(e); });
    EXPECT_EQ(result["success"], false) << v << " " << result;
  }
  auto memory = caf::actor_cast<memory_actor::stateful_pointer<memory_standin_state>>(spawned[1]);
  EXPECT_TRUE(memory->state.held.empty());
}

TEST(ErrorCategoryTest, CodesAreComparedWithTheirCategory) {
  caf::error timeout = caf::make_error(caf::sec::request_timeout);
  caf::error mismatch = caf::make_error(errc::failed_precondition, "version mismatch");
  EXPECT_FALSE(timeout == errc::failed_precondition);
  EXPECT_TRUE(timeout == caf::sec::request_timeout);
  EXPECT_TRUE(mismatch == errc::failed_precondition); // context does not matter
  EXPECT_FALSE(mismatch == caf::sec::request_timeout);
  EXPECT_FALSE(caf::error{} == errc::failed_precondition);
}
