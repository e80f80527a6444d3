#pragma once
/// Conversations, their messages and agent logs (API.md §4, §11): one typed store interface.
///
/// - Served by the database pool (persistence/, `spawn_db_pool`): a router in front of
///   `detached` connection workers; `db_actor` includes this interface. Actor tests put an
///   in-memory stand-in behind the same handle.
/// - Every handler may fail with `errc::unavailable` (database unreachable: HTTP 503),
///   `errc::deadline_exceeded` (statement timeout) or `errc::internal` (never carries SQL).
/// - Callers use `deadlines::db(db_timeout_ms)` as the request timeout.
/// - Text is stored as given, except that a NUL and invalid UTF-8 become U+FFFD (the one safety
///   net, persistence/detail.hpp `pg_text`); callers that must refuse such input do so first.

#include "actors/fwd.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// Who asks for a conversation (API.md §4): a conversation without an owner is anyone's who
/// holds its id; one with an owner is its owner's and admins'. Someone else's is `not_found`.
struct conversation_access {
  std::string conversation_id; ///< empty for `conv_open_atom`: a new one is created
  std::string owner_id;        ///< the caller; empty when anonymous
  bool admin = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, conversation_access& x) {
  return f(caf::meta::type_name("pixelcraft::conversation_access"), x.conversation_id, x.owner_id,
           x.admin);
}

/// `conv_open_atom`'s reply.
struct conversation_opened {
  std::string conversation_id;
  bool created = false; ///< false: it existed (and the caller may use it)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, conversation_opened& x) {
  return f(caf::meta::type_name("pixelcraft::conversation_opened"), x.conversation_id, x.created);
}

/// One line of a conversation as an agent remembers it (`conv_recent_atom`).
struct chat_line {
  std::string role; ///< `user` or `assistant`
  std::string content;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, chat_line& x) {
  return f(caf::meta::type_name("pixelcraft::chat_line"), x.role, x.content);
}

/// A message to store in a conversation (`messages` row).
struct new_chat_message {
  std::string conversation_id;
  std::string role; ///< `user`, `assistant` or `system`
  std::string content;
  std::string agent_type;
  std::string metadata = "{}"; ///< JSON object text (a jsonb column)
  int32_t tokens_in = -1;      ///< -1: unknown (NULL)
  int32_t tokens_out = -1;     ///< -1: unknown (NULL)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_chat_message& x) {
  return f(caf::meta::type_name("pixelcraft::new_chat_message"), x.conversation_id, x.role,
           x.content, x.agent_type, x.metadata, x.tokens_in, x.tokens_out);
}

/// One `agent_logs` row (API.md §11).
struct agent_log_entry {
  std::string agent_type;
  std::string action;                ///< e.g. `chat`, `invoke`, `tool_execution:<tool>`
  std::string conversation_id;       ///< empty: none
  std::string workflow_execution_id; ///< a UUID, or empty: none
  std::string input_data = "{}";     ///< JSON object text (jsonb)
  std::string output_data = "{}";    ///< JSON object text (jsonb)
  double execution_time_ms = 0;
  std::string status;        ///< `success`, `error`, `skipped`, ...
  std::string error_message; ///< empty: none
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_log_entry& x) {
  return f(caf::meta::type_name("pixelcraft::agent_log_entry"), x.agent_type, x.action,
           x.conversation_id, x.workflow_execution_id, x.input_data, x.output_data,
           x.execution_time_ms, x.status, x.error_message);
}

using conversation_store = caf::typed_actor<
    /// Opens the caller's conversation `access.conversation_id`, or creates one (an empty or
    /// unknown id; a server-chosen id is a random UUID) for `agent_type`, owned by the caller.
    /// Someone else's conversation: `errc::not_found`.
    caf::replies_to<conv_open_atom, conversation_access, std::string>::with<conversation_opened>,
    /// A page of a conversation, oldest first: the `ConversationHistory` JSON text of API.md §4
    /// (`{"conversation_id", "messages": [{"role", "content", "agent_type", "timestamp"}],
    /// "total"}`, rendered by SQL for the HTTP body). In: access, limit, offset.
    /// `errc::not_found` as for `conv_open_atom`.
    caf::replies_to<conv_read_atom, conversation_access, int32_t, int32_t>::with<std::string>,
    /// The newest `limit` user and assistant lines of a conversation, oldest first (an agent's
    /// memory of it). No access check: only agent actors ask, for a conversation already opened.
    caf::replies_to<conv_recent_atom, std::string, int32_t>::with<std::vector<chat_line>>,
    /// Deletes a conversation and its messages. Reply: the number of messages deleted.
    /// `errc::not_found` as for `conv_open_atom`.
    caf::replies_to<conv_delete_atom, conversation_access>::with<int64_t>,
    /// Stores a message (and touches the conversation's `updated_at`). Reply: `true`.
    caf::replies_to<msg_add_atom, new_chat_message>::with<bool>,
    /// Stores an `agent_logs` row. Reply: `true`.
    caf::replies_to<log_add_atom, agent_log_entry>::with<bool>,
    /// Per-agent metrics from `agent_logs` (API.md §5): a JSON array text of `{"agent_id",
    /// "total_interactions", "success_rate", "avg_response_time_ms", "last_active"}`.
    caf::replies_to<agent_metrics_atom>::with<std::string>>;

} // namespace pixelcraft
