#include "actors/agents/agent_catalog.hpp"

#include "actors/json_limits.hpp"
#include "actors/messages.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace pixelcraft {

const std::vector<std::pair<std::string, std::string>>& embedded_agents();

namespace {

using json = nlohmann::json;

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64)
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

} // namespace

const std::string& agent_catalog::builtin_json() {
  return embedded_agents().front().second;
}

std::shared_ptr<const agent_catalog> agent_catalog::load(const std::string& text,
                                                         const std::string& default_model,
                                                         std::string& error,
                                                         const policy_overrides& overrides) {
  auto doc = parse_json(text);
  if (!doc.is_object() || !doc.contains("agents") || !doc["agents"].is_array()) {
    error = "expected {\"agents\": [...]}";
    return nullptr;
  }
  static const std::set<std::string> reserved = {"health", "metrics", "invoke", "workflows"};
  auto cat = std::make_shared<agent_catalog>();
  std::set<std::string> seen;
  for (size_t i = 0; i < doc["agents"].size(); ++i) {
    const auto& a = doc["agents"][i];
    auto where = "agents[" + std::to_string(i) + "]";
    if (!a.is_object()) {
      error = where + ": not an object";
      return nullptr;
    }
    agent_def d;
    d.id = a.value("id", std::string{});
    if (!valid_id(d.id) || reserved.count(d.id) || !seen.insert(d.id).second) {
      error = where + ": id '" + d.id + "' is invalid, reserved or duplicated";
      return nullptr;
    }
    d.name = a.value("name", d.id);
    d.description = a.value("description", std::string{});
    d.system_prompt = a.value("system_prompt", std::string{});
    if (d.system_prompt.empty()) {
      error = where + ": system_prompt is required";
      return nullptr;
    }
    d.model = a.value("model", std::string{});
    if (d.model.empty())
      d.model = default_model;
    if (a.contains("temperature") && !a["temperature"].is_number()) {
      error = where + ": temperature must be a number";
      return nullptr;
    }
    d.temperature = a.value("temperature", 0.7);
    d.max_tokens = a.value("max_tokens", 800);
    if (d.temperature < 0 || d.temperature > 2 || d.max_tokens < 1) {
      error = where + ": temperature must be 0..2 and max_tokens positive";
      return nullptr;
    }
    if (a.contains("capabilities") && a["capabilities"].is_array())
      for (const auto& c : a["capabilities"])
        if (c.is_string())
          d.capabilities.push_back(c.get<std::string>());
    json tools = json::array();
    if (a.contains("tools") && a["tools"].is_array()) {
      for (const auto& t : a["tools"]) {
        if (!t.is_object() || !t.contains("name") || !t["name"].is_string() ||
            !t.contains("parameters") || !t["parameters"].is_object()) {
          error = where + ": each tool needs a name and JSON-schema parameters";
          return nullptr;
        }
        agent_tool tool;
        tool.name = t["name"].get<std::string>();
        auto builtin = builtin_effect(tool.name);
        tool.effect = builtin.value_or(tool_effect::write);
        if (t.contains("effect")) {
          auto declared = t["effect"].is_string()
                              ? effect_from_string(t["effect"].get<std::string>())
                              : std::nullopt;
          if (!declared || (builtin && *declared != *builtin)) {
            error = where + ": tool '" + tool.name + "' has effect " +
                    (builtin ? std::string("'") + to_string(*builtin) + "'"
                             : std::string("read, write or send"));
            return nullptr;
          }
          tool.effect = *declared;
        }
        auto own = tool_policy::rules;
        if (t.contains("policy")) {
          auto p = t["policy"].is_string() ? policy_from_string(t["policy"].get<std::string>())
                                           : std::nullopt;
          if (!p || (*p == tool_policy::automatic && always_approval(tool.name))) {
            error = where + ": tool '" + tool.name + "' policy must be " +
                    (always_approval(tool.name) ? "approval or deny" : "auto, approval or deny");
            return nullptr;
          }
          own = *p;
        }
        tool.policy = effective_policy(overrides, d.id, tool.name, own);
        json shown = {{"name", t["name"]},
                      {"description", t.value("description", std::string{})},
                      {"parameters", t["parameters"]},
                      {"effect", to_string(tool.effect)}};
        if (tool.policy == tool_policy::rules && tool.effect == tool_effect::read)
          shown["policy"] = "auto";
        else
          shown["policy"] = to_string(tool.policy);
        if (tool.policy == tool_policy::rules && tool.effect != tool_effect::read && builtin)
          shown["auto_when"] = tool.effect == tool_effect::write
                                   ? "the record is the bound lead's own"
                                   : "the recipient is the company or the bound lead";
        tools.push_back(std::move(shown));
        d.tools.push_back(std::move(tool));
      }
    }
    d.tools_json = tools.dump();
    cat->agents_.push_back(std::move(d));
  }
  if (cat->agents_.empty()) {
    error = "the catalogue defines no agent";
    return nullptr;
  }
  for (const auto& a : cat->agents_) {
    std::array<std::string, 4> r;
    for (int v = 0; v < 4; ++v) {
      json j = {{"agent_id", a.id},
                {"name", a.name},
                {"type", a.id},
                {"description", a.description},
                {"capabilities", a.capabilities},
                {"tools", parse_json_or_throw(a.tools_json)},
                {"status", v >= 2 ? "active" : "degraded"}};
      if (v % 2 == 1) {
        j["model"] = a.model;
        j["temperature"] = a.temperature;
        j["max_tokens"] = a.max_tokens;
      }
      r[static_cast<size_t>(v)] = j.dump();
    }
    cat->rendered_.push_back(std::move(r));
  }
  return cat;
}

const agent_tool* agent_def::tool(std::string_view tool_name) const {
  for (const auto& t : tools)
    if (t.name == tool_name)
      return &t;
  return nullptr;
}

const agent_def* agent_catalog::find(std::string_view id) const {
  for (const auto& a : agents_)
    if (a.id == id)
      return &a;
  return nullptr;
}

const std::string& agent_catalog::info_json(const agent_def& a, bool active, bool detail) const {
  return rendered_.at(
      static_cast<size_t>(&a - agents_.data()))[(active ? 2 : 0) + (detail ? 1 : 0)];
}

std::string agent_catalog::list_json(const model_status& models) const {
  std::string out = "{\"agents\":[";
  for (size_t i = 0; i < agents_.size(); ++i) {
    if (i > 0)
      out += ',';
    out += rendered_[i][models.serves(agents_[i].model) ? 2 : 0];
  }
  out += "],\"total\":" + std::to_string(agents_.size()) + "}";
  return out;
}

} // namespace pixelcraft
