#pragma once
/// Agents as actors (API.md §4-5): one actor per (agent, conversation), spawned on demand.
///
/// - `agent_registry_actor` is spawned once by app/ (`spawn_agent_registry`); it lives until
///   the system shuts down. Event-based, never blocks.
/// - It spawns and monitors one agent actor per (agent, conversation). An agent actor loads
///   the conversation's last turns from the database on its first message (so a conversation
///   continues across passivation and server restarts), serves turns one at a time, and is
///   passivated (quits normally) after `agent_idle_s` without a turn. A crashed agent actor is
///   dropped from the map and the next message gets a fresh one; nothing else is affected.
/// - A turn without a conversation id is one-shot: no memory, nothing stored (lead analysis).
/// - Every turn stores the user message and the reply before answering, and writes one
///   `agent_logs` row after answering (logging never delays a reply, so a read right after a
///   reply may not see that row yet).
/// - Tools: an agent with tools offers them to the model; the calls the model asks for run in
///   parallel through `tool_actor` (which checks the allow-list and the schema), their results
///   go back to the model, and this repeats at most `tool_rounds` times. The reply lists them
///   in `tools_used`.

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/agent_catalog.hpp"
#include "actors/config.hpp"
#include "actors/db_actor.hpp"
#include "actors/fwd.hpp"
#include "actors/llm_actor.hpp"
#include "actors/tool_actor.hpp"

namespace pixelcraft {

using agent_registry_actor = caf::typed_actor<
  /// One turn. In: `{"agent_type", "conversation_id"?, "message", "context"?, "action"?
  /// ("chat" default, or e.g. "invoke", "analyze_lead"), "format"? (JSON schema for the reply)}`
  /// and a listener that receives `(llm_chunk_atom, piece)` while the model produces (may be
  /// invalid); its termination cancels the model call.
  /// Reply: `{"response", "conversation_id", "agent_type", "timestamp", "tools_used",
  /// "metadata": {"model_used", "degraded", "latency_ms", "tokens_in"?, "tokens_out"?}}`.
  /// With no model reachable the reply is an honest degraded answer (`degraded: true`,
  /// `model_used: null`), stored like any other. Errors: `errc::not_found` (unknown agent),
  /// `errc::deadline_exceeded` (the model timed out or stalled), `errc::aborted` (cancelled),
  /// `errc::unavailable` (database down).
  caf::replies_to<chat_atom, std::string, caf::actor>::with<std::string>,
  /// Drops the agent actors (and their memory) of a deleted conversation.
  caf::reacts_to<forget_atom, std::string>,
  /// Reply: `{"<agent_id>": <live actor count>}` for every catalogued agent.
  caf::replies_to<agents_atom>::with<std::string>>;

struct agent_registry_options {
  std::shared_ptr<const agent_catalog> catalog;
  db_actor db;
  llm_actor llm;
  tool_actor tools; ///< may be invalid: tools are then not offered to the model
  config cfg;
};

agent_registry_actor spawn_agent_registry(caf::actor_system& sys, agent_registry_options opts);

/// The honest reply when no model is available.
const std::string& degraded_reply_text();

} // namespace pixelcraft
