// libFuzzer target: the request validators of http/validation.cpp, fed as the routes feed them
// (a body read with the client depth limit, refused with a NUL anywhere). The first byte picks
// the validator; the rest is the body (or the raw query value / field text).
//
// Selectors: 0 lead, 1 lead patch, 2 query integers, 3 field text, 4 stored lead, 5 chat,
// 6 invoke, 7 workflow execute, 8 agent message, 9 workflow state.
//
// Checked beyond "no crash": an accepted lead, patch, turn, invoke, workflow or agent message
// holds no NUL and serialises as JSON (PostgreSQL stores neither a NUL nor invalid UTF-8), an
// accepted value keeps its promises (a known agent, a bounded invoke text), and every 422
// detail serialises.
#include "actors/json_limits.hpp"
#include "http/validation.hpp"
#include "tests/fuzz/fuzz_util.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using nlohmann::json;
namespace h = pixelcraft::http;

void storable_or_trap(const json& j) {
  json nul = json::array();
  pixelcraft::find_nul_strings(j, json::array(), nul);
  if (!nul.empty())
    __builtin_trap();
  (void)j.dump(); // throws on invalid UTF-8: an uncaught exception is a finding
}

/// The catalogue's ids as the built-in `agents.json` has them (chat, invoke, execute).
const std::vector<std::string> catalogue = {"chat", "lead_qualification", "service_recommendation",
                                            "web_development", "digital_marketing"};
/// A workflow's `participating_agents` (agent messages).
const std::vector<std::string> participants = {"chat", "web_development"};

bool listed(const std::vector<std::string>& xs, const json& x) {
  return x.is_string() && std::find(xs.begin(), xs.end(), x.get<std::string>()) != xs.end();
}

/// A body as the routes read it: one JSON object within the client depth, no NUL in strings.
bool read_body(std::string_view text, json& body) {
  body = pixelcraft::parse_json(text, pixelcraft::client_depth);
  if (!body.is_object())
    return false;
  json nul = json::array();
  pixelcraft::find_nul_strings(body, json::array(), nul);
  return nul.empty();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  h::validator v;
  json body;
  switch (data[0] % 10) {
  case 0: { // POST /api/leads
    if (!read_body(rest, body))
      return 0;
    h::lead_submission out;
    if (h::validate_lead_request(body, v, out)) {
      storable_or_trap(out.row);
      (void)h::signals_of_lead(out.row);
    }
    break;
  }
  case 1: { // PATCH /api/leads/{id}
    if (!read_body(rest, body))
      return 0;
    json patch;
    if (h::validate_lead_patch(body, v, patch))
      storable_or_trap(patch);
    break;
  }
  case 2: { // ?limit=&offset= and other integer query parameters
    auto p = pixelcraft::fuzz::split_parts(data + 1, size - 1, 2);
    json args;
    h::read_page(&p[0], &p[1], v, args);
    (void)h::query_int(&p[0], "days", 30, -5, 365, v);
    break;
  }
  case 3: { // field checks on raw text
    std::string s{rest};
    (void)h::utf8_length(s);
    (void)h::has_control_chars(s, true);
    (void)h::has_control_chars(s, false);
    (void)h::is_valid_email(s);
    (void)h::is_valid_phone(s);
    (void)h::is_uuid(s);
    auto t = h::trim(s);
    if (t.size() > s.size())
      __builtin_trap();
    break;
  }
  case 4: { // a stored lead read back (jsonb) for scoring
    auto lead = pixelcraft::parse_json(rest, pixelcraft::internal_depth);
    if (!lead.is_discarded())
      (void)h::signals_of_lead(lead);
    break;
  }
  case 5: { // POST /api/chat/message, /api/chat/stream
    if (!read_body(rest, body))
      return 0;
    json turn;
    if (h::validate_chat_request(body, catalogue, v, turn)) {
      storable_or_trap(turn);
      if (!listed(catalogue, turn["agent_type"]) || !turn["message"].is_string())
        __builtin_trap();
    }
    break;
  }
  case 6: { // POST /api/agents/invoke (the agent's existence is the handler's 404)
    if (!read_body(rest, body))
      return 0;
    h::invoke_request in;
    std::string message;
    if (!h::validate_invoke_request(body, v, in) || !h::invoke_message(in.input, v, message))
      break;
    if (!in.input.is_object() || h::utf8_length(message) > h::max_invoke_text)
      __builtin_trap();
    storable_or_trap({{"agent_type", in.agent_type},
                      {"message", message},
                      {"context", in.input},
                      {"conversation_id", in.conversation_id}});
    break;
  }
  case 7: { // POST /api/agents/workflows/execute
    if (!read_body(rest, body))
      return 0;
    h::workflow_submission sub;
    if (h::validate_workflow_request(body, catalogue, v, sub)) {
      storable_or_trap(sub.spec);
      const auto& agents = sub.spec["participating_agents"];
      if (agents.empty() || agents.size() > 10)
        __builtin_trap();
      for (const auto& a : agents)
        if (!listed(catalogue, a))
          __builtin_trap();
      storable_or_trap(sub.conversation_id);
    }
    break;
  }
  case 8: { // POST /api/agents/workflows/{id}/messages
    if (!read_body(rest, body))
      return 0;
    json msg;
    if (h::validate_agent_message(body, participants, v, msg)) {
      storable_or_trap(msg);
      if (!listed(participants, msg["from_agent"]) || !listed(participants, msg["to_agent"]))
        __builtin_trap();
    }
    break;
  }
  case 9: { // PATCH /api/agents/workflows/{id}/state
    if (!read_body(rest, body))
      return 0;
    std::string action;
    if (h::validate_state_patch(body, v, action) && action != "pause" && action != "resume" &&
        action != "cancel")
      __builtin_trap();
    break;
  }
  }
  (void)v.detail().dump(-1, ' ', false, json::error_handler_t::replace);
  return 0;
}
