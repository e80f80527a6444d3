#include "workflows/visualization.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <tuple>

namespace pixelcraft::workflows {

using json = nlohmann::json;

json visualization(const json& wf, const json& events, const json& messages,
                   const std::vector<std::string>& memory_keys) {
  auto path = wf.value("execution_path", json::array());
  auto results = wf.value("results", json::object());
  auto state = wf.value("current_state", std::string{});
  std::map<std::string, std::string> status;
  for (const auto& a : wf["participating_agents"])
    status[a] = results.contains(a) ? "completed" : "pending";
  for (const auto& e : events) {
    auto agent = e["data"].value("agent", std::string{});
    if (agent.empty() || !status.count(agent))
      continue;
    if (e["event_type"] == "step_started" && status[agent] != "completed")
      status[agent] = state == "running" || state == "paused" ? "running" : "pending";
    if (e["event_type"] == "step_failed")
      status[agent] = "failed";
  }
  json nodes = json::array();
  for (const auto& a : wf["participating_agents"])
    nodes.push_back({{"id", a}, {"status", status[a]}});
  std::map<std::tuple<std::string, std::string, std::string>, int> edge_counts;
  auto step_edge = wf["workflow_type"] == "conditional" ? "route" : "sequence";
  if (wf["workflow_type"] != "parallel")
    for (size_t i = 1; i < path.size(); ++i)
      ++edge_counts[{path[i - 1], path[i], step_edge}];
  json interactions = json::array();
  for (const auto& m : messages) {
    ++edge_counts[{m["from_agent"], m["to_agent"], m["message_type"]}];
    interactions.push_back({{"from_agent", m["from_agent"]},
                            {"to_agent", m["to_agent"]},
                            {"message_type", m["message_type"]},
                            {"timestamp", m["created_at"]}});
  }
  json edges = json::array();
  for (const auto& [k, n] : edge_counts)
    edges.push_back(
        {{"from", std::get<0>(k)}, {"to", std::get<1>(k)}, {"type", std::get<2>(k)}, {"count", n}});
  json timeline = json::array();
  for (const auto& e : events) {
    const auto& d = e["data"];
    std::string detail = d.contains("error") && d["error"].is_string()
                             ? d["error"].get<std::string>()
                         : d.contains("state")        ? d["state"].get<std::string>()
                         : d.contains("message_type") ? d["message_type"].get<std::string>()
                                                      : "";
    timeline.push_back({{"timestamp", e["timestamp"]},
                        {"event", e["event_type"]},
                        {"agent", d.value("agent", d.value("from_agent", json(nullptr)))},
                        {"detail", detail}});
  }
  json keys = memory_keys;
  return {{"workflow_id", wf["workflow_id"]},
          {"conversation_id", wf["conversation_id"]},
          {"workflow_type", wf["workflow_type"]},
          {"current_state", state},
          {"execution_graph", {{"nodes", nodes}, {"edges", edges}}},
          {"execution_timeline", timeline},
          {"agent_interactions", interactions},
          {"shared_memory_keys", keys}};
}

} // namespace pixelcraft::workflows
