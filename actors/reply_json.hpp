#pragma once
/// The typed parts of an `agent_reply` (actors/messages.hpp) as JSON, for the edges that show
/// or store them: the HTTP bodies (API.md §4, §5), the stored chat message's `metadata` and the
/// workflow's `results` (jsonb). Key names are the API's.

#include "actors/json_limits.hpp"
#include "actors/llm_actor.hpp"
#include "actors/messages.hpp"

#include <nlohmann/json.hpp>

namespace pixelcraft {

/// `{"model_used", "degraded", "latency_ms", "tokens_in"?, "tokens_out"?, "lead_score"?,
/// "pending_approvals"?}`.
inline nlohmann::json to_json(const reply_meta& m) {
  nlohmann::json j = {
      {"model_used", m.model_used.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.model_used)},
      {"degraded", m.degraded},
      {"latency_ms", m.latency_ms}};
  if (m.tokens_in >= 0)
    j["tokens_in"] = m.tokens_in;
  if (m.tokens_out >= 0)
    j["tokens_out"] = m.tokens_out;
  if (m.lead_score >= 0)
    j["lead_score"] = m.lead_score;
  if (!m.pending_approvals.empty())
    j["pending_approvals"] = m.pending_approvals;
  return j;
}

/// `{"message_id", "to_agent", "message_type", "status"}`.
inline nlohmann::json to_json(const message_note& m) {
  return {{"message_id", m.message_id},
          {"to_agent", m.to_agent},
          {"message_type", m.message_type},
          {"status", m.status}};
}

/// A model's answer as the step journal records it (the keys the model client always used, so
/// journals written before read the same).
inline nlohmann::json to_json(const model_reply& r, const nlohmann::json& tool_calls) {
  return {{"content", r.content},     {"model", r.model},           {"provider", r.provider},
          {"tokens_in", r.tokens_in}, {"tokens_out", r.tokens_out}, {"latency_ms", r.latency_ms},
          {"ttft_ms", r.ttft_ms},     {"tool_calls", tool_calls}};
}

/// A recorded answer (the journal's jsonb) read back: fields of the wrong type are left at their
/// defaults, and the tool calls are handed back as an array (empty when they were not one).
inline model_reply model_reply_of(const nlohmann::json& j, nlohmann::json& tool_calls) {
  model_reply r;
  tool_calls = nlohmann::json::array();
  if (!j.is_object())
    return r;
  auto number = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  auto whole = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  r.content = string_or(j, "content");
  r.model = string_or(j, "model");
  r.provider = string_or(j, "provider");
  r.tokens_in = whole("tokens_in");
  r.tokens_out = whole("tokens_out");
  r.latency_ms = number("latency_ms");
  r.ttft_ms = number("ttft_ms");
  if (auto it = j.find("tool_calls"); it != j.end() && it->is_array())
    tool_calls = *it;
  return r;
}

} // namespace pixelcraft
