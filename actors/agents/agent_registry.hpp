#pragma once
/// Agents as actors (API.md §4-5): one actor per (agent, conversation), spawned on demand.
///
/// - `agent_registry_actor` is spawned once by app/ (`spawn_agent_registry`); it lives until
///   the system shuts down. Event-based, never blocks. Told to exit, it ends its agent actors
///   1,024 at a time, 1 ms apart (answering new turns `errc::unavailable` meanwhile), then
///   itself: about a second per million live agents.
/// - It spawns and monitors one agent actor per (agent, conversation). An agent actor loads
///   the conversation's last turns from the database on its first message (so a conversation
///   continues across passivation and server restarts), serves turns one at a time from an
///   explicit queue, and is passivated (quits normally) `agent_idle_s` after its last turn,
///   never during one. It never awaits: while a turn waits for its model, tools or the
///   database, peers' messages and inbox counts are answered at once. A crashed agent actor is
///   dropped from the map and the next message gets a fresh one; nothing else is affected.
/// - A turn without a conversation id is one-shot: no memory, nothing stored (lead analysis).
/// - Every turn stores the user message and the reply before answering, and writes one
///   `agent_logs` row after answering (logging never delays a reply, so a read right after a
///   reply may not see that row yet).
/// - Tools: an agent with tools offers them to the model; the calls the model asks for run in
///   parallel through `tool_actor` (which checks the allow-list and the schema), their results
///   go back to the model, and this repeats at most `tool_rounds` times. The reply lists them
///   in `tools_used`.
/// - Workflows: a step (a turn with `workflow_id` and no conversation) goes to that agent's
///   actor *in that execution*, spawned on first use and ended by `forget_atom("wf:<id>")` when
///   the run is over (or passivated when idle; it then reloads its inbox). Agents of one
///   execution talk with native CAF messages (`workflow_agent_actor`): a message is mirrored
///   `pending` by its sender, `delivered` by its receiver, `processed` by the receiver once the
///   step that saw it completes, `failed` if the receiver cannot be reached. The next step of
///   the receiver gets its inbox in `context.messages_for_you`. The model may send messages with
///   the built-in `send_message` tool. A step with `hand_off_to` that holds the task (it took a
///   `handoff`, or nothing: the first step) passes it on afterwards, as a `handoff` with its
///   summary, unless it declared `[FINAL]` or addressed others itself. The step's reply adds
///   `messages_sent` and `messages_processed` (ids).

#include "actors/agents/agent_catalog.hpp"
#include "actors/agents/tool_actor.hpp"
#include "actors/db_actor.hpp"
#include "actors/fwd.hpp"
#include "actors/llm_actor.hpp"
#include "actors/message_mirror.hpp"
#include "actors/messages.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pixelcraft {

/// An agent's actor in one workflow execution, as the other agents (and the run) see it.
using workflow_agent_actor = caf::typed_actor<
    /// Delivery of a message (with its `message_id`). Reply: the id, once it is in this agent's
    /// inbox (never after IO: callers use `deadlines::peer`). Duplicates are acknowledged and
    /// dropped.
    caf::replies_to<amsg_atom, agent_message>::with<std::string>,
    /// Sends a message as this agent (`from_agent` is set here). Reply: the message with status
    /// `delivered` or `failed`; `errc::invalid_argument` for an unknown `message_type`.
    caf::replies_to<amsg_send_atom, outgoing_message>::with<agent_message>,
    /// Messages waiting for this agent's next step.
    caf::replies_to<inbox_atom>::with<uint32_t>>;

/// How many actors of one agent are alive here (`agents_atom`, API.md §5 `/api/agents/health`).
struct agent_instances {
  std::string agent_id;
  int32_t count = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_instances& x) {
  return f(caf::meta::type_name("pixelcraft::agent_instances"), x.agent_id, x.count);
}

using agent_registry_actor = caf::typed_actor<
    /// One turn (`agent_turn`, actors/messages.hpp), and a listener that receives
    /// `(llm_chunk_atom, piece)` while the model produces (may be invalid); its termination
    /// cancels the model call. Callers wait the turn's `budget_ms` + `deadlines::margin`.
    /// Reply: the `agent_reply`. With no model reachable the reply is an honest degraded answer
    /// (`meta.degraded`, no `meta.model_used`), stored like any other. Errors: `errc::not_found`
    /// (unknown agent), `errc::deadline_exceeded` (the model timed out or stalled),
    /// `errc::aborted` (cancelled), `errc::unavailable` (database down).
    caf::replies_to<chat_atom, agent_turn, caf::actor>::with<agent_reply>,
    /// Drops the agent actors (and their memory) of a deleted conversation, or with
    /// `"wf:<workflow_id>"` those of a finished workflow execution.
    caf::reacts_to<forget_atom, std::string>,
    /// The agent's actor in workflow execution `workflow_id` (a `workflow_agent_actor`), spawned
    /// if needed. `errc::not_found` for an unknown agent.
    caf::replies_to<agent_peer_atom, std::string, std::string>::with<caf::actor>,
    /// Reply: the live actor count of every catalogued agent, in catalogue order.
    caf::replies_to<agents_atom>::with<std::vector<agent_instances>>,
    /// Reply: how many conversations' agent actors are alive here (API.md §14 `load.agents`).
    caf::replies_to<load_atom>::with<int32_t>>;

/// The agents' settings (app/ fills them from the configuration, API.md §10).
struct agent_settings {
  unsigned agent_idle_s = 300;      ///< an idle agent actor is passivated after this
  unsigned history_turns = 10;      ///< conversation turns sent to the model
  unsigned llm_timeout_s = 120;     ///< the longest model call of a turn
  unsigned tool_rounds = 4;         ///< model/tool round trips per turn
  unsigned db_timeout_ms = 5000;    ///< `DB_TIMEOUT_MS` (deadlines::db)
  unsigned request_timeout_s = 120; ///< `REQUEST_TIMEOUT_S`: the budget of a turn nobody bounds
};

struct agent_registry_options {
  std::shared_ptr<const agent_catalog> catalog;
  db_actor db;
  llm_actor llm;
  tool_actor tools;            ///< may be invalid: tools are then not offered to the model
  message_mirror_actor mirror; ///< may be invalid: agent messages are then not mirrored
  agent_settings settings;
};

agent_registry_actor spawn_agent_registry(caf::actor_system& sys, agent_registry_options opts);

/// The honest reply when no model is available.
const std::string& degraded_reply_text();

} // namespace pixelcraft
