#pragma once
/// `agent_message` at the edges: made from what a client or a model wrote, checked before it is
/// stored, and turned into the JSON of API.md §7 for HTTP replies, the model's context and the
/// `agent_messages` rows. Between actors it travels typed (actors/messages.hpp).

#include "actors/messages.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace pixelcraft {

/// A new message of workflow `workflow_id`: a fresh `message_id` (random UUID), status
/// `pending`, `created_at` now. `m.metadata` empty becomes `{}`.
agent_message make_agent_message(outgoing_message m, const std::string& workflow_id);

/// The fields of `{"from_agent", "to_agent", "message_type", "content"?, "metadata"?}` as
/// validated by the caller (HTTP `validate_agent_message`, the `send_message` tool): content
/// and metadata that are not objects become `{}`.
outgoing_message outgoing_from_json(const nlohmann::json& j);

/// `AgentMessage` (API.md §7).
nlohmann::json to_json(const agent_message& m);

/// A stored row (`amsg_list` item) back into a message; content and metadata re-serialised.
agent_message agent_message_from_json(const nlohmann::json& row);

/// The row as JSON text for the mirror's batch, content and metadata embedded as they are
/// (never parsed again). Only for messages `agent_message_problem` accepted.
std::string agent_message_row(const agent_message& m);

/// Why `m` may not be stored, or empty if it may: larger than `max_bytes` in all; `message_id`
/// or `workflow_id` not a UUID; `from_agent`, `to_agent` empty; `message_type` or `status` not
/// one of theirs; `content` or `metadata` not JSON object text; invalid UTF-8 or a NUL
/// character (raw or escaped) anywhere (PostgreSQL refuses it). Never parses the content.
std::string agent_message_problem(const agent_message& m, std::size_t max_bytes);

bool known_message_type(const std::string& type);
bool known_message_status(const std::string& status);

} // namespace pixelcraft
