// The visualization of an execution (API.md §7), a pure function of what is stored.
#include "workflows/visualization.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>

using nlohmann::json;

namespace {

json event(const std::string& type, json data) {
  return {{"event_type", type}, {"data", std::move(data)}, {"timestamp", "2026-12-03T10:00:00Z"}};
}

json execution(const std::string& type, const std::string& state, json path, json results) {
  return {{"workflow_id", "wf-1"},
          {"conversation_id", nullptr},
          {"workflow_type", type},
          {"current_state", state},
          {"participating_agents", {"chat", "brand_design", "content_creation"}},
          {"execution_path", std::move(path)},
          {"results", std::move(results)}};
}

/// Node id -> status of a visualization's graph.
std::map<std::string, std::string> statuses(const json& v) {
  std::map<std::string, std::string> out;
  for (const auto& n : v["execution_graph"]["nodes"])
    out[n["id"]] = n["status"];
  return out;
}

} // namespace

TEST(VisualizationTest, NodesEdgesTimelineAndInteractionsOfARunningSequence) {
  auto wf = execution("sequential", "running", {"chat", "brand_design"},
                      {{"chat", {{"content", "a"}}}, {"brand_design", {{"content", "b"}}}});
  json events = json::array({event("step_started", {{"agent", "chat"}}),
                             event("step_completed", {{"agent", "chat"}}),
                             event("step_started", {{"agent", "brand_design"}}),
                             event("step_completed", {{"agent", "brand_design"}}),
                             event("step_started", {{"agent", "content_creation"}})});
  json messages = json::array();
  for (int i = 0; i < 2; ++i)
    messages.push_back({{"from_agent", "chat"},
                        {"to_agent", "content_creation"},
                        {"message_type", "request"},
                        {"created_at", "2026-12-03T10:00:01Z"}});
  std::vector<std::string> memory = {"budget", "chat"};
  auto v = pixelcraft::workflows::visualization(wf, events, messages, memory);

  auto status = statuses(v);
  EXPECT_EQ(status["chat"], "completed");
  EXPECT_EQ(status["brand_design"], "completed");
  EXPECT_EQ(status["content_creation"], "running");
  json sequence = {{"from", "chat"}, {"to", "brand_design"}, {"type", "sequence"}, {"count", 1}};
  json requests = {{"from", "chat"}, {"to", "content_creation"}, {"type", "request"}, {"count", 2}};
  const auto& edges = v["execution_graph"]["edges"];
  EXPECT_NE(std::find(edges.begin(), edges.end(), sequence), edges.end()) << edges;
  EXPECT_NE(std::find(edges.begin(), edges.end(), requests), edges.end()) << edges;
  EXPECT_EQ(edges.size(), 2u) << edges;
  EXPECT_EQ(v["execution_timeline"].size(), events.size());
  EXPECT_EQ(v["agent_interactions"].size(), 2u);
  EXPECT_EQ(v["shared_memory_keys"], json::array({"budget", "chat"}));
}

TEST(VisualizationTest, AFailedStepAndAParallelRunWithoutOrderEdges) {
  auto wf = execution("parallel", "failed", {"chat"}, {{"chat", {{"content", "a"}}}});
  json events = json::array({event("step_started", {{"agent", "brand_design"}}),
                             event("step_failed", {{"agent", "brand_design"}, {"error", "boom"}})});
  auto v = pixelcraft::workflows::visualization(wf, events, json::array(), {});
  auto status = statuses(v);
  EXPECT_EQ(status["chat"], "completed");
  EXPECT_EQ(status["brand_design"], "failed");
  EXPECT_EQ(status["content_creation"], "pending");
  EXPECT_TRUE(v["execution_graph"]["edges"].empty());
  EXPECT_EQ(v["execution_timeline"][1]["detail"], "boom");
}
