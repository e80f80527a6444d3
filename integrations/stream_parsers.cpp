#include "integrations/stream_parsers.hpp"

#include "actors/json_limits.hpp"

#include <limits>

namespace pixelcraft::integrations {

namespace {

using json = nlohmann::json;

// `json::value(key, default)` throws when the field has another type, and `get<int>()` of a
// float out of range is undefined behaviour: a model's stream is not trusted to be well-typed.
int64_t int_field(const json& obj, const char* key, int64_t def) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer())
    return def;
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return def;
  return it->get<int64_t>();
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object())
    return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const std::string* string_member(const json& obj, const char* key) {
  auto m = member(obj, key);
  return m && m->is_string() ? &m->get_ref<const std::string&>() : nullptr;
}

} // namespace

std::string ollama_line(model_stream& s, std::string_view line) {
  auto j = parse_json(line, internal_depth);
  if (!j.is_object())
    return {};
  if (auto e = member(j, "error")) {
    s.stream_error = e->is_string() ? e->get<std::string>() : e->dump();
    return {};
  }
  std::string piece;
  if (auto m = member(j, "message"); m && m->is_object()) {
    if (auto c = string_member(*m, "content"))
      piece = *c;
    if (auto t = member(*m, "tool_calls"); t && t->is_array())
      for (const auto& call : *t)
        s.tool_calls.push_back(call);
  }
  if (auto d = member(j, "done"); d && d->is_boolean() && d->get<bool>()) {
    s.complete = true;
    s.tokens_in = int_field(j, "prompt_eval_count", 0);
    s.tokens_out = int_field(j, "eval_count", 0);
  }
  return piece;
}

std::string openai_line(model_stream& s, std::string_view line) {
  if (line.rfind("data:", 0) != 0)
    return {}; // comments, event names, blank separators
  auto payload = line.substr(5);
  while (!payload.empty() && payload.front() == ' ')
    payload.remove_prefix(1);
  if (payload == "[DONE]") {
    s.complete = true;
    return {};
  }
  auto j = parse_json(payload, internal_depth);
  if (!j.is_object())
    return {};
  if (auto e = member(j, "error")) {
    auto msg = string_member(*e, "message");
    s.stream_error = msg ? *msg : e->dump();
    return {};
  }
  if (auto u = member(j, "usage"); u && u->is_object()) {
    s.tokens_in = int_field(*u, "prompt_tokens", s.tokens_in);
    s.tokens_out = int_field(*u, "completion_tokens", s.tokens_out);
  }
  auto choices = member(j, "choices");
  if (!choices || !choices->is_array() || choices->empty())
    return {};
  auto delta = member((*choices)[0], "delta");
  if (!delta || !delta->is_object())
    return {};
  std::string piece;
  if (auto c = string_member(*delta, "content"))
    piece = *c;
  if (auto calls = member(*delta, "tool_calls"); calls && calls->is_array()) {
    for (const auto& t : *calls) {
      if (!t.is_object())
        continue;
      auto index = int_field(t, "index", 0);
      if (index < 0 || index > std::numeric_limits<int>::max())
        continue;
      auto& acc = s.openai_tools[static_cast<int>(index)];
      if (acc.is_null())
        acc = {{"function", {{"name", ""}, {"arguments", ""}}}};
      if (auto id = member(t, "id"); id && id->is_string())
        acc["id"] = *id;
      if (auto f = member(t, "function")) {
        if (auto name = string_member(*f, "name"))
          acc["function"]["name"].get_ref<std::string&>() += *name;
        if (auto args = string_member(*f, "arguments"))
          acc["function"]["arguments"].get_ref<std::string&>() += *args;
      }
    }
  }
  return piece;
}

} // namespace pixelcraft::integrations
