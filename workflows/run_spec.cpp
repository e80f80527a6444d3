#include "workflows/run_spec.hpp"

#include "actors/json_limits.hpp"
#include "workflows/routing_rules.hpp"

#include <algorithm>

namespace pixelcraft::workflows {

namespace {

using json = nlohmann::json;

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

void config_int(const json& cfg, const char* key, long long lo, long long hi,
                std::vector<spec_problem>& out) {
  if (!cfg.contains(key))
    return;
  const auto& x = cfg[key];
  if (!x.is_number_integer() || x.get<long long>() < lo || x.get<long long>() > hi)
    out.push_back({{"body", "workflow_config", key},
                   "Input should be an integer " + std::to_string(lo) + ".." + std::to_string(hi),
                   "int_range"});
}

void check_size(const json& j, json loc, std::vector<spec_problem>& out) {
  if (json_size_capped(j, max_free_json_bytes) > max_free_json_bytes)
    out.push_back(
        {std::move(loc),
         "Value should have at most " + std::to_string(max_free_json_bytes) + " bytes as JSON",
         "too_long"});
}

} // namespace

const std::vector<std::string>& workflow_types() {
  static const std::vector<std::string> types = {"sequential", "multi_agent", "conditional",
                                                 "collaborative", "parallel"};
  return types;
}

std::vector<spec_problem> check_run_spec(const json& body,
                                         const std::vector<std::string>& known_agents, json& spec) {
  std::vector<spec_problem> out;
  auto type = body.value("workflow_type", json(nullptr));
  if (type.is_null())
    out.push_back({{"body", "workflow_type"}, "Field required", "missing"});
  else if (!type.is_string() || !contains(workflow_types(), type.get<std::string>()))
    out.push_back({{"body", "workflow_type"},
                   "Input should be 'sequential', 'multi_agent', 'conditional', 'collaborative' "
                   "or 'parallel'",
                   "enum"});
  std::vector<std::string> agents;
  if (!body.contains("participating_agents") || body["participating_agents"].is_null()) {
    out.push_back({{"body", "participating_agents"}, "Field required", "missing"});
  } else if (!body["participating_agents"].is_array() || body["participating_agents"].empty() ||
             body["participating_agents"].size() > 10) {
    out.push_back({{"body", "participating_agents"},
                   "Input should be a list of 1..10 agent ids",
                   "list_type"});
  } else {
    for (size_t i = 0; i < body["participating_agents"].size(); ++i) {
      const auto& a = body["participating_agents"][i];
      if (!a.is_string() || !contains(known_agents, a.get<std::string>()))
        out.push_back({{"body", "participating_agents", i},
                       "Input should be the id of an agent from /api/agents",
                       "enum"});
      else if (contains(agents, a.get<std::string>()))
        out.push_back(
            {{"body", "participating_agents", i}, "Each agent may take part once", "value_error"});
      else
        agents.push_back(a.get<std::string>());
    }
  }
  json cfg = body.value("workflow_config", json::object());
  if (!cfg.is_object()) {
    out.push_back({{"body", "workflow_config"}, "Input should be a valid object", "dict_type"});
    cfg = json::object();
  }
  json input = body.value("input_data", json::object());
  if (!input.is_object()) {
    out.push_back({{"body", "input_data"}, "Input should be a valid object", "dict_type"});
    input = json::object();
  } else if (input.contains("message") && !input["message"].is_string()) {
    out.push_back(
        {{"body", "input_data", "message"}, "Input should be a valid string", "string_type"});
  } else {
    check_size(input, {"body", "input_data"}, out);
  }
  if (body.contains("metadata") && !body["metadata"].is_null()) {
    if (!body["metadata"].is_object())
      out.push_back({{"body", "metadata"}, "Input should be a valid object", "dict_type"});
    else if (body["metadata"].contains("replay_of") || body["metadata"].contains("fork_of"))
      out.push_back({{"body", "metadata"},
                     "replay_of and fork_of are set by the server (POST /replay)",
                     "value_error"});
    else
      check_size(body["metadata"], {"body", "metadata"}, out);
  }
  check_size(cfg, {"body", "workflow_config"}, out);
  config_int(cfg, "max_steps", 1, 100, out);
  config_int(cfg, "max_rounds", 1, 50, out);
  config_int(cfg, "step_timeout_s", 1, 3600, out);
  config_int(cfg, "retries", 0, 5, out);
  if (out.empty())
    spec = {{"workflow_type", type},
            {"participating_agents", agents},
            {"workflow_config", cfg},
            {"input_data", input},
            {"metadata", body.value("metadata", json::object())}}; // null stays null
  return out;
}

std::vector<spec_problem> check_routing(const json& spec) {
  std::vector<spec_problem> out;
  if (spec.value("workflow_type", std::string{}) != "conditional")
    return out;
  const auto& cfg = spec["workflow_config"];
  if (!cfg.contains("routing_rules")) {
    out.push_back({{"body", "workflow_config", "routing_rules"},
                   "Field required for conditional workflows",
                   "missing"});
    return out;
  }
  auto agents = spec["participating_agents"].get<std::vector<std::string>>();
  for (auto& p : validate_rules(cfg["routing_rules"].dump(), agents))
    out.push_back({{"body", "workflow_config", "routing_rules"}, p, "value_error"});
  return out;
}

} // namespace pixelcraft::workflows
