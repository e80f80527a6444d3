#pragma once
/// The agents, defined as data (API.md §5): one JSON file the operator can edit
/// (`AGENTS_FILE`), or the built-in `actors/agents/agents.json`. Immutable once loaded; shared
/// read-only between the registry actor and http/ (local only, never sent in a message).

#include "actors/agents/tool_policy.hpp"

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pixelcraft {

struct model_status;

/// A tool of an agent, as the policy sees it (API.md §12).
struct agent_tool {
  std::string name;
  tool_effect effect = tool_effect::write;
  tool_policy policy = tool_policy::rules; ///< effective: the catalogue's, then `TOOL_POLICY`
};

struct agent_def {
  std::string id; ///< also the `type`; `[a-z0-9_]{1,64}`, not a reserved path name
  std::string name;
  std::string description;
  std::vector<std::string> capabilities;
  std::string system_prompt;
  std::string model; ///< empty in the file: `OLLAMA_MODEL`
  double temperature = 0.7;
  int max_tokens = 800;
  std::string tools_json = "[]"; ///< `[{"name", "description", "parameters": <schema>}]`
  std::vector<agent_tool> tools; ///< the same tools' effect and policy

  /// The tool called `name`, or null when the agent has none by that name.
  const agent_tool* tool(std::string_view name) const;
};

class agent_catalog {
public:
  /// Parses and validates a catalogue. A tool's `effect` (`read`/`write`/`send`) is optional
  /// for the tools the runtime implements (their own is used; a different one is an error) and
  /// defaults to `write` for others; `policy` (`auto`/`approval`/`deny`) is optional. `overrides`
  /// (`TOOL_POLICY`) win over the file. On failure returns null and sets `error`.
  static std::shared_ptr<const agent_catalog> load(const std::string& json_text,
                                                   const std::string& default_model,
                                                   std::string& error,
                                                   const policy_overrides& overrides = {});
  /// The catalogue compiled into the binary.
  static const std::string& builtin_json();

  const agent_def* find(std::string_view id) const;
  const std::vector<agent_def>& all() const { return agents_; }

  /// `AgentInfo` (API.md §5) with status `active` or `degraded`; with `detail`, plus model,
  /// temperature and max_tokens. Rendered once, when the catalogue is loaded.
  const std::string& info_json(const agent_def& a, bool active, bool detail) const;
  /// The `GET /api/agents` body: every agent, `active` when `models` serves its model.
  std::string list_json(const model_status& models) const;

private:
  std::vector<agent_def> agents_;
  /// Per agent: [degraded brief, degraded detail, active brief, active detail].
  std::vector<std::array<std::string, 4>> rendered_;
};

} // namespace pixelcraft
