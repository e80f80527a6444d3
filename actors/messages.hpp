#pragma once
/// Typed messages between actors (the wire types of the `pixelcraft_actors` block in
/// actors/fwd.hpp). Each has a CAF 0.17 `inspect`, so it crosses nodes as it is; JSON stays at
/// the edges (HTTP bodies, the model and vendor wire, jsonb columns).

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// The model server as the last health check saw it (health_actor's `models_atom` reply).
struct model_status {
  bool reachable = false;
  std::vector<std::string> names; ///< empty while reachable: the server lists none (OpenAI)

  /// Whether `model` can be served: reachable and listed (`x` and `x:latest` are the same).
  bool serves(const std::string& model) const {
    if (!reachable)
      return false;
    if (names.empty())
      return true;
    for (const auto& n : names)
      if (n == model || n == model + ":latest" || model == n + ":latest")
        return true;
    return false;
  }
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, model_status& x) {
  return f(caf::meta::type_name("pixelcraft::model_status"), x.reachable, x.names);
}

/// A message from one agent to another inside one workflow execution (API.md §7
/// `AgentMessage`). `content` and `metadata` are JSON object text, made at the edge where the
/// message was written (HTTP body, model tool call) and opaque between actors: nothing parses
/// them on the way. actors/agent_message.hpp converts at the edges.
struct agent_message {
  std::string message_id;  ///< UUID, chosen by the sender (`make_agent_message`)
  std::string workflow_id; ///< `workflow_execution_id`
  std::string from_agent;
  std::string to_agent;
  std::string message_type; ///< request, response, notification or handoff
  std::string content = "{}";
  std::string metadata = "{}";
  std::string status = "pending"; ///< pending, delivered, processed or failed (forward only)
  std::string created_at;         ///< RFC 3339, UTC
  std::string processed_at;       ///< RFC 3339, UTC, once stored as processed; empty: not yet
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, agent_message& x) {
  return f(caf::meta::type_name("pixelcraft::agent_message"), x.message_id, x.workflow_id,
           x.from_agent, x.to_agent, x.message_type, x.content, x.metadata, x.status, x.created_at,
           x.processed_at);
}

/// What a sender writes; the rest of an `agent_message` is filled in when it is sent.
struct outgoing_message {
  std::string from_agent; ///< set by the sending agent's actor (ignored from elsewhere)
  std::string to_agent;
  std::string message_type;
  std::string content = "{}";  ///< JSON object text
  std::string metadata = "{}"; ///< JSON object text
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outgoing_message& x) {
  return f(caf::meta::type_name("pixelcraft::outgoing_message"), x.from_agent, x.to_agent,
           x.message_type, x.content, x.metadata);
}

/// The lead a conversation or workflow was started with, as the server stored it: the policy's
/// only source of a lead's address (API.md §12), never the model's text.
struct lead_binding {
  std::string email; ///< empty: no lead is bound
  std::string name;
  std::string budget_range;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, lead_binding& x) {
  return f(caf::meta::type_name("pixelcraft::lead_binding"), x.email, x.name, x.budget_range);
}

/// One tool call a model asked for (API.md §9), on its way from an agent to the tool actor.
struct tool_call {
  std::string tool;
  /// As the model gave it, JSON text: an object, or (OpenAI-style) a string holding one. Hostile
  /// until the tool actor has checked it against the tool's schema.
  std::string arguments = "{}";
  std::string agent_type;      ///< the calling agent (its catalogue entry lists its tools)
  std::string conversation_id; ///< empty: none
  std::string execution_id;    ///< this call's id (logs, vendor idempotency keys)
  std::string workflow_id;     ///< empty: not inside a workflow
  std::string owner_id;        ///< the workflow's or conversation's owner (`sub`; empty: none)
  std::string turn_id;         ///< the chat turn or workflow step (per-turn budget)
  std::string client;          ///< an anonymous caller's address (hourly budget); empty: signed in
  int32_t step = 0;            ///< the workflow step (1-based); 0: not in a workflow
  lead_binding lead;           ///< set by the server, never from the model
  /// A replayed or forked step (API.md §13): the execution whose journal and approvals answer
  /// this call; nothing reaches a vendor. Empty: a live call.
  std::string replay_of;
  int64_t lease_epoch = 0; ///< the workflow run's lease epoch (journal fence); 0: none
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, tool_call& x) {
  return f(caf::meta::type_name("pixelcraft::tool_call"), x.tool, x.arguments, x.agent_type,
           x.conversation_id, x.execution_id, x.workflow_id, x.owner_id, x.turn_id, x.client,
           x.step, x.lead, x.replay_of, x.lease_epoch);
}

/// A call a person approved (API.md §12): the stored arguments run as they are, with no policy
/// or budget check (the person was the check).
struct approved_call {
  std::string approval_id;
  tool_call call;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, approved_call& x) {
  return f(caf::meta::type_name("pixelcraft::approved_call"), x.approval_id, x.call);
}

/// What a tool call gave (the tool actor's reply). `content` goes to the model as it is; the
/// typed fields are what the calling agent acts on, so nobody reads the model's text.
struct tool_result {
  /// The result object as JSON text: `{"success": bool, "skipped"?, "reason"?, "error"?, ...}`.
  std::string content = R"({"success":false})";
  bool success = false;
  std::string pending_approval; ///< set: the call waits for a person (this approval's id)
  /// A `remember` that stored a value: the entry's key, scope and new version.
  std::string memory_key;
  std::string memory_scope;
  int64_t memory_version = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, tool_result& x) {
  return f(caf::meta::type_name("pixelcraft::tool_result"), x.content, x.success,
           x.pending_approval, x.memory_key, x.memory_scope, x.memory_version);
}

/// One turn for an agent (`agent_registry_actor`'s `chat_atom`): a visitor's chat message, an
/// invocation, a lead analysis, or a workflow step. Made by the caller from validated input;
/// `context` and `format` are JSON text for the model (an edge), opaque on the way.
struct agent_turn {
  std::string agent_type = "chat";
  std::string conversation_id;   ///< empty: one-shot (nothing stored), or a workflow step
  bool new_conversation = false; ///< created by this request: no history to load
  std::string message;
  std::string context;         ///< JSON object text shown to the model; empty: none
  std::string action = "chat"; ///< for `agent_logs`: chat, invoke, analyze_lead, workflow_step
  std::string format;          ///< JSON schema text the reply must follow; empty: free text
  int64_t budget_ms = -1;      ///< what the caller has left (deadline.hpp); -1: not bounded
  std::string owner_id;        ///< the signed-in caller (`sub`), or the workflow's owner
  std::string client;          ///< an anonymous caller's address (tool budgets); empty: none
  // A workflow step (API.md §7): the run actor fills these.
  std::string workflow_id; ///< empty: not a step
  std::vector<std::string> participants;
  int32_t step = 0;           ///< 1-based; 0: not a step (nothing journaled)
  int64_t lease_epoch = 0;    ///< the run's lease epoch (journal fence)
  lead_binding lead;          ///< the lead the run was started with (tool policy)
  std::string hand_off_to;    ///< the agent a holding step passes the task to; empty: none
  std::string journal_source; ///< a replayed step (API.md §13): whose journal answers
  /// The rules' score of the run's lead (`input_data.lead_data`, API.md §7), reported as
  /// `metadata.lead_score` by an agent with the `lead_scoring` capability; -1: no lead.
  int32_t lead_score = -1;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, agent_turn& x) {
  return f(caf::meta::type_name("pixelcraft::agent_turn"), x.agent_type, x.conversation_id,
           x.new_conversation, x.message, x.context, x.action, x.format, x.budget_ms, x.owner_id,
           x.client, x.workflow_id, x.participants, x.step, x.lease_epoch, x.lead, x.hand_off_to,
           x.journal_source, x.lead_score);
}

/// A reply's `metadata` (API.md §4, §7), typed; actors/reply_json.hpp renders it for the edges
/// (the HTTP body, the stored chat message, the workflow's results).
struct reply_meta {
  std::string model_used;  ///< empty: no model answered (`null`)
  bool degraded = false;   ///< true: the honest answer given without a model
  double latency_ms = 0;   ///< the turn's model time (the whole turn when degraded)
  int64_t tokens_in = -1;  ///< -1: not reported (absent)
  int64_t tokens_out = -1; ///< -1: not reported (absent)
  int32_t lead_score = -1; ///< a lead-scoring workflow step's rule score; -1: absent
  std::vector<std::string> pending_approvals; ///< calls held for a person; empty: absent
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, reply_meta& x) {
  return f(caf::meta::type_name("pixelcraft::reply_meta"), x.model_used, x.degraded, x.latency_ms,
           x.tokens_in, x.tokens_out, x.lead_score, x.pending_approvals);
}

/// A `remember` call of the turn that stored its value.
struct memory_note {
  std::string key;
  std::string scope;
  int64_t version = 0;
  std::string value = "null"; ///< JSON text, as the model gave it
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, memory_note& x) {
  return f(caf::meta::type_name("pixelcraft::memory_note"), x.key, x.scope, x.version, x.value);
}

/// A message a workflow step sent to another agent (its actor already delivered it).
struct message_note {
  std::string message_id;
  std::string to_agent;
  std::string message_type;
  std::string status; ///< as mirrored: delivered, failed, ...
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, message_note& x) {
  return f(caf::meta::type_name("pixelcraft::message_note"), x.message_id, x.to_agent,
           x.message_type, x.status);
}

/// An agent's answer to a turn.
struct agent_reply {
  std::string response;
  std::string conversation_id; ///< empty: none
  std::string agent_type;
  std::string timestamp; ///< RFC 3339
  reply_meta meta;
  std::vector<std::string> tools_used;    ///< tool names, in call order
  std::vector<memory_note> memory_writes; ///< `remember` calls that stored
  /// A workflow step's: the messages it sent and the ids of those it processed.
  std::vector<message_note> messages_sent;
  std::vector<std::string> messages_processed;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, agent_reply& x) {
  return f(caf::meta::type_name("pixelcraft::agent_reply"), x.response, x.conversation_id,
           x.agent_type, x.timestamp, x.meta, x.tools_used, x.memory_writes, x.messages_sent,
           x.messages_processed);
}

} // namespace pixelcraft
