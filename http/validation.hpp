#pragma once
/// Request validation (API.md §1, §6): collects *every* failing field as a 422 entry
/// `{"loc": [...], "msg": "...", "type": "..."}`. Pure functions, no I/O.

#include "actors/json_limits.hpp"
#include "actors/leads/lead_scoring.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pixelcraft::http {

class validator {
public:
  void add(nlohmann::json loc, std::string msg, std::string type) {
    errors_.push_back(
        {{"loc", std::move(loc)}, {"msg", std::move(msg)}, {"type", std::move(type)}});
  }
  bool ok() const { return errors_.empty(); }
  const nlohmann::json& detail() const { return errors_; }

private:
  nlohmann::json errors_ = nlohmann::json::array();
};

/// Number of Unicode code points in valid UTF-8.
size_t utf8_length(std::string_view s);
/// C0/C1 control characters (and DEL); `\n`, `\r`, `\t` pass when `allow_whitespace`.
bool has_control_chars(std::string_view s, bool allow_whitespace);
bool is_valid_email(std::string_view s);
/// `^\+?[0-9 ()\-.]{3,40}$`
bool is_valid_phone(std::string_view s);
/// 8-4-4-4-12 hex digits.
bool is_uuid(std::string_view s);
std::string trim(std::string_view s);
/// ASCII lower case (header names, tokens and schemes compare in any case).
std::string lower(std::string_view s);

// -- hostile input (API.md §1, v1.1) -------------------------------------------------------

using pixelcraft::max_free_json_bytes; // actors/json_limits.hpp

/// Outcome of reading a request body as JSON, once per request.
struct body_check {
  int status = 0;                                  ///< 0 ok, else 400 or 422
  std::string detail;                              ///< the 400 `detail`
  nlohmann::json errors = nlohmann::json::array(); ///< the 422 entries
  nlohmann::json doc;                              ///< the document when `status == 0`
};

/// Checks a request body that must be one JSON object, in this order: only whitespace → 422
/// `missing` at `["body"]`; nested deeper than `client_depth` (32) → 400 "JSON nested deeper
/// than 32 levels" (found while parsing, nothing recursive has run); invalid UTF-8 → 400; a NUL
/// byte or anything else that is not JSON → 400; not an object → 400; a string value or key
/// holding `\u0000` → 422 with one `value_error.nul` entry per field (loc `["body", ...]`).
body_check check_json_body(std::string_view body);

/// True when `s` is valid UTF-8 without a NUL character: text that PostgreSQL can store.
bool storable_text(std::string_view s);

/// Adds a 422 entry at `["query", name]` for every decoded query parameter whose name or
/// value is not `storable_text` (e.g. `%00`, `%ff`). Entries may carry invalid UTF-8 in `loc`:
/// serialise them with `safe_dump`.
void check_query_text(const std::vector<std::pair<std::string, std::string>>& query, validator& v);

/// An `Idempotency-Key` (API.md §1): 1..255 visible ASCII characters (0x21..0x7E).
bool valid_idempotency_key(std::string_view s);

using pixelcraft::json_size_capped; // actors/json_limits.hpp

/// Adds a 422 `too_long` entry at `loc` when `j` serialises to more than `limit` bytes.
bool check_json_size(const nlohmann::json& j, const nlohmann::json& loc, std::size_t limit,
                     validator& v);

/// `j.dump()` that never throws: invalid UTF-8 (e.g. from a query name echoed in a `loc`)
/// becomes U+FFFD.
std::string safe_dump(const nlohmann::json& j);

/// A validated `LeadRequest`.
struct lead_submission {
  nlohmann::json row;   ///< the lead's columns for `lead_new_atom` (no owner or analysis yet)
  lead_signals signals; ///< scoring inputs
  bool analyze = true;
};

/// Validates a `LeadRequest` body (an object). Returns false with errors in `v`.
bool validate_lead_request(const nlohmann::json& body, validator& v, lead_submission& out);

/// Validates a lead PATCH body into the `lead_upd_atom` patch. At least one known field.
bool validate_lead_patch(const nlohmann::json& body, validator& v, nlohmann::json& patch);

// -- chat, agents and workflows (API.md §4, §5, §7) ----------------------------------------
// Like the lead validators: `body` is an object from `check_json_body`, `v` starts empty, and
// `out` is set only when the result is true. Anything needing an actor stays in the handler.

/// `^[A-Za-z0-9_-]{1,128}$`: a conversation id (body field or path parameter).
bool valid_conversation_id(std::string_view s);

/// Validates a `ChatRequest` into the turn for `chat_atom`: trimmed `message`, `agent_type`
/// (one of `agents`, default "chat"), `action` "chat", and `conversation_id`/`context` if given.
bool validate_chat_request(const nlohmann::json& body, const std::vector<std::string>& agents,
                           validator& v, nlohmann::json& turn);

/// Longest text the agent is asked in one invoke (the message, or `input_data` as JSON).
inline constexpr std::size_t max_invoke_text = 20000;

/// A validated `AgentInvokeRequest`; whether the agent exists is the handler's check (404).
struct invoke_request {
  std::string agent_type;
  nlohmann::json input = nlohmann::json::object(); ///< `input_data`, an object
  std::string conversation_id;                     ///< empty when absent
};

/// Validates an invoke body; `input_data` is sized before anything copies or prints it.
bool validate_invoke_request(const nlohmann::json& body, validator& v, invoke_request& out);

/// The text an invoke asks (`input` from `validate_invoke_request`): its trimmed `message`, else
/// `input` as compact JSON; over `max_invoke_text` adds 422 `too_long` at `["body", "input_data"]`.
bool invoke_message(const nlohmann::json& input, validator& v, std::string& message);

/// A validated `WorkflowRequest`, without its owner.
struct workflow_submission {
  /// `workflow_type`, `participating_agents`, `workflow_config`, `input_data`, `metadata`
  nlohmann::json spec;
  std::string conversation_id; ///< empty when absent
};

/// Validates a workflow execute body; `agents` are the catalogue's ids. The run spec is
/// workflows/'s to judge (`workflows::check_run_spec`); this adds `conversation_id`, and a
/// conditional workflow's `routing_rules` are checked only when everything else is valid.
bool validate_workflow_request(const nlohmann::json& body, const std::vector<std::string>& agents,
                               validator& v, workflow_submission& out);

/// Validates an `AgentMessage` posted to a workflow whose `participating_agents` are `agents`,
/// into the message for `wf_msg_atom` (`metadata` as given, `{}` when absent).
bool validate_agent_message(const nlohmann::json& body, const std::vector<std::string>& agents,
                            validator& v, nlohmann::json& msg);

/// Validates a workflow state PATCH: `action` is "pause", "resume" or "cancel" (else one 422
/// entry, type `missing` when absent or null, `enum` otherwise).
bool validate_state_patch(const nlohmann::json& body, validator& v, std::string& action);

/// Validates a replay request (API.md §13): `mode` is "replay" or "fork"; `from_step` (an
/// integer from 1) is required for a fork and not accepted for a replay, which re-runs every
/// step. Every failing field is listed.
bool validate_replay_request(const nlohmann::json& body, validator& v, std::string& mode,
                             long long& from_step);

/// Reads an integer query parameter (absent: `def`); out of [lo, hi] or not an integer adds a
/// 422 entry at `["query", name]`.
long long query_int(const std::string* raw, const char* name, long long def, long long lo,
                    long long hi, validator& v);

/// Reads `limit` (1..100, default 50) and `offset` (>= 0, default 0) into `args` (API.md §1);
/// out-of-range values add 422 entries to `v`.
void read_page(const std::string* limit, const std::string* offset, validator& v,
               nlohmann::json& args);

/// Scoring inputs of a stored `Lead` JSON.
lead_signals signals_of_lead(const nlohmann::json& lead);

} // namespace pixelcraft::http
