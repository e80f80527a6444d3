#include "actors/stores/shared_memory_store.hpp"

#include "actors/json_limits.hpp"

#include <nlohmann/json.hpp>

namespace pixelcraft {

namespace {

using json = nlohmann::json;

json or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

json entry_object(const memory_entry& e) {
  return {{"key", e.key},
          {"value", parse_json_or_throw(e.value)}, // stored jsonb text: ours
          {"scope", e.scope},
          {"version", e.version},
          {"created_by_agent", or_null(e.created_by_agent)},
          {"updated_at", e.updated_at},
          {"expires_at", or_null(e.expires_at)}};
}

} // namespace

std::string memory_entry_json(const memory_entry& e) {
  return entry_object(e).dump();
}

std::string memory_list_json(const std::vector<memory_entry>& entries) {
  json items = json::array();
  for (const auto& e : entries)
    items.push_back(entry_object(e));
  return json{{"items", std::move(items)}}.dump();
}

} // namespace pixelcraft
