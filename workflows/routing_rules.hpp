#pragma once
/// Conditional routing (API.md §7): pure functions over JSON text, no I/O.
///
/// `rules` is `workflow_config.routing_rules`: `{"conditions": [{"field", "operator", "value",
/// "next_agent", "after"?}], "default"?}`. Operators: `>`, `>=`, `<`, `<=`, `==`, `!=`, `in`,
/// `contains`, `exists`. `field` is a dotted path into the result of the agent that just ran
/// (`content`, `metadata.*`) or into shared memory (`memory.<key>`). A missing field or a type
/// mismatch makes a condition false, never an error.

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace pixelcraft::workflows {

/// Checks the shape of `routing_rules` and that every `next_agent` and `after` names a
/// participating agent (or `end`). Returns one message per problem.
std::vector<std::string> validate_rules(const std::string& rules_json,
                                        const std::vector<std::string>& agents);

/// The next agent after a step by `agent` (`first_step` true for the first step of the run):
/// the candidates are the conditions with `"after": agent`, plus, after the first step only,
/// the conditions without `after`; the first that matches names the next agent. If none
/// matches: `default` (if given) after the first step, else `end`. Returns `end` to stop.
/// `result_json` is the step's `{"content", "metadata", ...}`; `memory_json` an object of the
/// shared memory's current values by key.
std::string next_agent(const std::string& rules_json, const std::string& agent, bool first_step,
                       const std::string& result_json, const std::string& memory_json);

/// The same over documents the caller holds already (the run actor's configuration, results
/// and memory): nothing is rendered or parsed again.
std::string next_agent_of(const nlohmann::json& rules, const std::string& agent, bool first_step,
                          const nlohmann::json& result, const nlohmann::json& memory);

/// Evaluates one condition (exposed for tests).
bool condition_matches(const std::string& condition_json, const std::string& result_json,
                       const std::string& memory_json);

} // namespace pixelcraft::workflows
