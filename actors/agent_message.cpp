#include "actors/agent_message.hpp"

#include "actors/ids.hpp"
#include "actors/json_limits.hpp"
#include "actors/log.hpp"

namespace pixelcraft {

namespace {

using json = nlohmann::json;

/// A JSON string literal (never throws: invalid UTF-8 was refused before).
std::string quoted(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Whether JSON text holds a NUL: raw, or written as the escape `\u0000` (an escape only when
/// the backslash before `u` is not itself escaped).
bool has_nul(const std::string& text) {
  if (text.find('\0') != std::string::npos)
    return true;
  for (auto at = text.find("u0000"); at != std::string::npos; at = text.find("u0000", at + 1)) {
    size_t slashes = 0;
    while (at > slashes && text[at - 1 - slashes] == '\\')
      ++slashes;
    if (slashes % 2 == 1)
      return true;
  }
  return false;
}

bool object_text(const std::string& text) {
  return text.size() >= 2 && text.front() == '{' && text.back() == '}';
}

std::string object_or_empty(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_object())
    return "{}";
  return j[key].dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

bool known_message_type(const std::string& t) {
  return t == "request" || t == "response" || t == "notification" || t == "handoff";
}

bool known_message_status(const std::string& s) {
  return s == "pending" || s == "delivered" || s == "processed" || s == "failed";
}

agent_message make_agent_message(outgoing_message m, const std::string& workflow_id) {
  agent_message out;
  out.message_id = random_uuid();
  out.workflow_id = workflow_id;
  out.from_agent = std::move(m.from_agent);
  out.to_agent = std::move(m.to_agent);
  out.message_type = std::move(m.message_type);
  out.content = m.content.empty() ? "{}" : std::move(m.content);
  out.metadata = m.metadata.empty() ? "{}" : std::move(m.metadata);
  out.status = "pending";
  out.created_at = log::now_rfc3339();
  return out;
}

outgoing_message outgoing_from_json(const json& j) {
  outgoing_message m;
  m.from_agent = string_or(j, "from_agent", "");
  m.to_agent = string_or(j, "to_agent", "");
  m.message_type = string_or(j, "message_type", "");
  m.content = object_or_empty(j, "content");
  m.metadata = object_or_empty(j, "metadata");
  return m;
}

json to_json(const agent_message& m) {
  auto object = [](const std::string& text) {
    auto j = parse_json(text);
    return j.is_object() ? j : json::object();
  };
  return {{"message_id", m.message_id},
          {"workflow_execution_id", m.workflow_id},
          {"from_agent", m.from_agent},
          {"to_agent", m.to_agent},
          {"message_type", m.message_type},
          {"content", object(m.content)},
          {"metadata", object(m.metadata)},
          {"status", m.status},
          {"created_at", m.created_at.empty() ? json(nullptr) : json(m.created_at)},
          {"processed_at", m.processed_at.empty() ? json(nullptr) : json(m.processed_at)}};
}

agent_message agent_message_from_json(const json& row) {
  agent_message m;
  m.message_id = string_or(row, "message_id", "");
  m.workflow_id = string_or(row, "workflow_execution_id", "");
  m.from_agent = string_or(row, "from_agent", "");
  m.to_agent = string_or(row, "to_agent", "");
  m.message_type = string_or(row, "message_type", "");
  m.content = object_or_empty(row, "content");
  m.metadata = object_or_empty(row, "metadata");
  m.status = string_or(row, "status", "pending");
  m.created_at = string_or(row, "created_at", "");
  return m;
}

std::string agent_message_row(const agent_message& m) {
  std::string out;
  out.reserve(256 + m.content.size() + m.metadata.size());
  out += "{\"message_id\":" + quoted(m.message_id);
  out += ",\"workflow_execution_id\":" + quoted(m.workflow_id);
  out += ",\"from_agent\":" + quoted(m.from_agent);
  out += ",\"to_agent\":" + quoted(m.to_agent);
  out += ",\"message_type\":" + quoted(m.message_type);
  out += ",\"content\":" + m.content;
  out += ",\"metadata\":" + m.metadata;
  out += ",\"status\":" + quoted(m.status);
  out += ",\"created_at\":" + (m.created_at.empty() ? std::string{"null"} : quoted(m.created_at));
  out += '}';
  return out;
}

std::string agent_message_problem(const agent_message& m, std::size_t max_bytes) {
  auto size = m.message_id.size() + m.workflow_id.size() + m.from_agent.size() + m.to_agent.size() +
              m.message_type.size() + m.content.size() + m.metadata.size() + m.status.size() +
              m.created_at.size();
  if (size > max_bytes)
    return "larger than " + std::to_string(max_bytes) + " bytes";
  if (!is_uuid(m.message_id))
    return "message_id is not a UUID";
  if (!is_uuid(m.workflow_id))
    return "workflow_execution_id is not a UUID";
  if (m.from_agent.empty() || m.to_agent.empty())
    return "from_agent and to_agent must be set";
  if (!known_message_type(m.message_type))
    return "unknown message_type";
  if (!known_message_status(m.status))
    return "unknown status";
  if (!object_text(m.content) || !object_text(m.metadata))
    return "content and metadata must be JSON objects";
  for (const auto* s : {&m.from_agent, &m.to_agent, &m.content, &m.metadata, &m.created_at})
    if (!valid_utf8(*s))
      return "not valid UTF-8";
  for (const auto* s : {&m.from_agent, &m.to_agent, &m.content, &m.metadata, &m.created_at})
    if (has_nul(*s))
      return "a NUL character in a string or key"; // no client text in logs or replies
  return {};
}

} // namespace pixelcraft
