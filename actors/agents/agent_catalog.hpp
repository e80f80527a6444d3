#pragma once
/// The agents, defined as data (API.md §5): one JSON file the operator can edit
/// (`AGENTS_FILE`), or the built-in `actors/agents/agents.json`. Immutable once loaded; shared
/// read-only between the registry actor and http/ (local only, never sent in a message).

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pixelcraft {

struct model_status;

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
};

class agent_catalog {
public:
  /// Parses and validates a catalogue. On failure returns null and sets `error`.
  static std::shared_ptr<const agent_catalog>
  load(const std::string& json_text, const std::string& default_model, std::string& error);
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
