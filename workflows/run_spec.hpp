#pragma once
/// The run spec of a workflow (API.md §7 `WorkflowRequest`): what may be run, checked before an
/// execution exists. Pure functions, no I/O; the HTTP layer turns problems into 422 entries.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pixelcraft::workflows {

/// One reason a run spec is refused, shaped as a 422 entry (API.md §1); `loc` starts with
/// `"body"`.
struct spec_problem {
  nlohmann::json loc;
  std::string msg;
  std::string type;
};

/// `sequential`, `multi_agent`, `conditional`, `collaborative`, `parallel`.
const std::vector<std::string>& workflow_types();

/// Checks the run spec in a `WorkflowRequest` body (an object): `workflow_type`;
/// `participating_agents`, 1..10 distinct ids of `known_agents`; `workflow_config`, an object
/// (`max_steps` 1..100, `max_rounds` 1..50, `step_timeout_s` 1..3600, `retries` 0..5);
/// `input_data`, an object whose `message` is a string; `metadata`, an object or null, without
/// `replay_of` or `fork_of` (the server sets those on replays and forks, API.md §13). The
/// free-form parts are at most `max_free_json_bytes` as JSON, measured before anything copies
/// them. Problems come in field order. With none, `spec` is the normalised spec
/// (`workflow_type`, `participating_agents`, `workflow_config`, `input_data`, `metadata`).
std::vector<spec_problem> check_run_spec(const nlohmann::json& body,
                                         const std::vector<std::string>& known_agents,
                                         nlohmann::json& spec);

/// A conditional spec's `workflow_config.routing_rules`: present and valid for its agents
/// (routing_rules.hpp). Other types: none. Call on a spec `check_run_spec` accepted.
std::vector<spec_problem> check_routing(const nlohmann::json& spec);

} // namespace pixelcraft::workflows
