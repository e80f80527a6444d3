#include "workflows/routing_rules.hpp"

#include "actors/json_limits.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace pixelcraft::workflows {

namespace {

using json = nlohmann::json;

const std::vector<std::string>& operators() {
  static const std::vector<std::string> ops = {
      ">", ">=", "<", "<=", "==", "!=", "in", "contains", "exists"};
  return ops;
}

/// Resolves a dotted path; returns nullptr (a JSON pointer to nothing) when absent.
const json* resolve(const std::string& field, const json& result, const json& memory) {
  const json* cur = &result;
  std::string path = field;
  if (field.rfind("memory.", 0) == 0) {
    cur = &memory;
    path = field.substr(7);
  }
  size_t start = 0;
  while (start <= path.size()) {
    auto dot = path.find('.', start);
    auto part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty())
      return nullptr;
    if (cur->is_object()) {
      auto it = cur->find(part);
      if (it == cur->end())
        return nullptr;
      cur = &*it;
    } else if (cur->is_array() && part.size() <= 9 &&
               std::all_of(part.begin(), part.end(),
                           [](char ch) { return ch >= '0' && ch <= '9'; })) {
      auto i = std::stoul(part); // at most 9 digits: never out of range
      if (i >= cur->size())
        return nullptr;
      cur = &(*cur)[i];
    } else {
      return nullptr;
    }
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  return cur;
}

bool compare(const json& a, const std::string& op, const json& b) {
  if (op == "==")
    return a == b;
  if (op == "!=")
    return a != b;
  if (a.is_number() && b.is_number()) {
    auto x = a.get<double>(), y = b.get<double>();
    return op == ">" ? x > y : op == ">=" ? x >= y : op == "<" ? x < y : x <= y;
  }
  if (a.is_string() && b.is_string()) {
    const auto& x = a.get_ref<const std::string&>();
    const auto& y = b.get_ref<const std::string&>();
    return op == ">" ? x > y : op == ">=" ? x >= y : op == "<" ? x < y : x <= y;
  }
  return false; // a type mismatch is false, never an error
}

bool matches(const json& c, const json& result, const json& memory) {
  if (!c.is_object() || !c.contains("field") || !c["field"].is_string())
    return false;
  auto op = string_or(c, "operator", "==");
  const json* v = resolve(c["field"].get<std::string>(), result, memory);
  if (op == "exists")
    return v != nullptr && !v->is_null();
  if (v == nullptr || !c.contains("value"))
    return false;
  const auto& want = c["value"];
  if (op == "in") {
    if (!want.is_array())
      return false;
    return std::find(want.begin(), want.end(), *v) != want.end();
  }
  if (op == "contains") {
    if (v->is_string() && want.is_string())
      return v->get_ref<const std::string&>().find(want.get_ref<const std::string&>()) !=
             std::string::npos;
    if (v->is_array())
      return std::find(v->begin(), v->end(), want) != v->end();
    return false;
  }
  if (std::find(operators().begin(), operators().end(), op) == operators().end())
    return false;
  return compare(*v, op, want);
}

json parse_or(const std::string& text, json fallback) {
  auto j = parse_json(text);
  return j.is_discarded() ? fallback : j;
}

} // namespace

std::vector<std::string> validate_rules(const std::string& rules_json,
                                        const std::vector<std::string>& agents) {
  std::vector<std::string> problems;
  auto r = parse_json(rules_json);
  if (!r.is_object()) {
    problems.push_back("routing_rules must be an object");
    return problems;
  }
  auto known = [&](const json& name) {
    return name.is_string() &&
           (name == "end" ||
            std::find(agents.begin(), agents.end(), name.get<std::string>()) != agents.end());
  };
  if (r.contains("conditions")) {
    if (!r["conditions"].is_array()) {
      problems.push_back("routing_rules.conditions must be an array");
    } else {
      for (size_t i = 0; i < r["conditions"].size(); ++i) {
        const auto& c = r["conditions"][i];
        auto at = "routing_rules.conditions[" + std::to_string(i) + "]";
        if (!c.is_object() || !c.contains("field") || !c["field"].is_string()) {
          problems.push_back(at + ".field is required");
          continue;
        }
        auto op = string_or(c, "operator", "");
        if (std::find(operators().begin(), operators().end(), op) == operators().end())
          problems.push_back(at + ".operator must be one of > >= < <= == != in contains exists");
        if (op != "exists" && !c.contains("value"))
          problems.push_back(at + ".value is required for " + op);
        if (!c.contains("next_agent") || !known(c["next_agent"]))
          problems.push_back(at + ".next_agent must be a participating agent or \"end\"");
        if (c.contains("after") && !known(c["after"]))
          problems.push_back(at + ".after must be a participating agent");
      }
    }
  }
  if (r.contains("default") && !r["default"].is_null() && !known(r["default"]))
    problems.push_back("routing_rules.default must be a participating agent or \"end\"");
  return problems;
}

bool condition_matches(const std::string& condition_json, const std::string& result_json,
                       const std::string& memory_json) {
  return matches(parse_or(condition_json, nullptr), parse_or(result_json, json::object()),
                 parse_or(memory_json, json::object()));
}

std::string next_agent(const std::string& rules_json, const std::string& agent, bool first_step,
                       const std::string& result_json, const std::string& memory_json) {
  return next_agent_of(parse_or(rules_json, json::object()), agent, first_step,
                       parse_or(result_json, json::object()),
                       parse_or(memory_json, json::object()));
}

std::string next_agent_of(const json& rules, const std::string& agent, bool first_step,
                          const json& result_in, const json& memory_in) {
  static const json empty = json::object();
  const auto& result = result_in.is_object() ? result_in : empty;
  const auto& memory = memory_in.is_object() ? memory_in : empty;
  if (!rules.is_object())
    return "end";
  auto conditions = rules.find("conditions");
  if (conditions != rules.end() && conditions->is_array())
    for (const auto& c : *conditions) {
      if (!c.is_object())
        continue;
      bool candidate = c.contains("after") ? c["after"] == agent : first_step;
      if (candidate && matches(c, result, memory)) {
        auto next = string_or(c, "next_agent", "end");
        return next.empty() ? "end" : next;
      }
    }
  auto fallback = first_step ? string_or(rules, "default", "end") : std::string{"end"};
  return fallback.empty() ? "end" : fallback;
}

} // namespace pixelcraft::workflows
