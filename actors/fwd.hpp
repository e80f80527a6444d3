#pragma once
/// Shared actor vocabulary: atoms and the `pixelcraft_actors` type-ID block.
///
/// Atom texts are at most 10 characters of `[0-9A-Za-z_]` and unique across all modules
/// (an atom *is* its text). Payloads are typed messages (actors/messages.hpp, each with an
/// `inspect`), strings and numbers, so every message here is serializable for CAF remoting;
/// local-only payloads are marked as such. Some payloads are still JSON text (issue 9 moves
/// them to types one aggregate at a time).

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/type_id.hpp>

#include <string>
#include <vector>

namespace pixelcraft {
struct model_status;
struct agent_message;
struct outgoing_message;
struct tool_call;
struct tool_result;
struct conversation_access;
struct conversation_opened;
struct chat_line;
struct new_chat_message;
struct agent_log_entry;
struct idempotency_claim;
struct memory_key;
struct memory_write;
struct memory_entry;
struct agent_message_batch;
struct agent_message_filter;
struct agent_message_page;
struct lead_input;
struct lead_filter;
struct lead_patch;
struct approval_request;
struct approval_filter;
struct approval_decision;
struct approval;
struct approval_page;
struct approved_call;
struct agent_turn;
struct agent_reply;
struct model_reply;
struct readiness;
struct agent_instances;
struct lead_profile;
struct reply_meta;
struct memory_note;
struct message_note;
struct vendor_call;
struct vendor_outcome;
struct vendor_circuit;
struct db_ping;
struct journal_call;
struct journal_entry;
struct run_spec;
struct run_viewer;
struct run_filter;
struct run_row;
struct run_claim;
struct run_event;
struct run_save;
struct run_saved;
} // namespace pixelcraft

// The block reads as a table, as in CAF's own headers.
// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(pixelcraft_actors, caf::first_custom_type_id)
  // Database (db_actor).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, ping_atom, "db_ping")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::db_ping))
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, lead_new_atom, "lead_new")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, lead_get_atom, "lead_get")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, lead_list_atom, "lead_list")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, lead_upd_atom, "lead_upd")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, lead_anl_atom, "lead_anl")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::lead_input))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::lead_filter))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::lead_patch))
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, lead_analyze_atom, "lead_anlz")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::lead_profile))
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, idem_begin_atom, "idem_begin")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, idem_end_atom, "idem_end")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, idem_drop_atom, "idem_drop")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::idempotency_claim))
  // Conversations (actors/stores/conversation_store.hpp).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, conv_open_atom, "conv_open")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, conv_read_atom, "conv_read")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, conv_recent_atom, "conv_rcnt")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, conv_delete_atom, "conv_del")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, msg_add_atom, "msg_add")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, log_add_atom, "log_add")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, agent_metrics_atom, "agt_metric")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::conversation_access))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::conversation_opened))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::chat_line))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::chat_line>))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::new_chat_message))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::agent_log_entry))
  // Health (health_actor, probe_actor).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, probe_atom, "probe")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, health_atom, "health")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, ready_atom, "ready")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::readiness))
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, tick_atom, "tick")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, models_atom, "models")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::model_status))
  // Models (llm_actor).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, llm_chat_atom, "llm_chat")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::model_reply))
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, llm_chunk_atom, "llm_chunk")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, llm_stats_atom, "llm_stats")
  // Agents (agent_registry_actor, agent actors).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, chat_atom, "chat")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::agent_turn))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::agent_reply))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::reply_meta))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::memory_note))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::memory_note>))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::message_note))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::message_note>))
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, forget_atom, "forget")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, agents_atom, "agents")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::agent_instances))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::agent_instances>))
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, idle_atom, "idle")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, gone_atom, "gone")
  // Agent-to-agent messages (agent actors, message_mirror_actor).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, amsg_atom, "amsg")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, amsg_send_atom, "amsg_send")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, agent_peer_atom, "agent_peer")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, inbox_atom, "inbox")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, mirror_put_atom, "mir_put")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, mirror_status_atom, "mir_status")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, mirror_flush_atom, "mir_flush")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, mirror_store_atom, "mir_store")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::agent_message))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::outgoing_message))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<std::string>))
  // Agent messages' table (actors/stores/agent_message_store.hpp).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, amsg_write_atom, "amsg_write")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, amsg_list_atom, "amsg_list")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::agent_message>))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::agent_message_batch))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::agent_message_filter))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::agent_message_page))
  // Integrations and tools (vendor_actor, tool_actor).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, vendor_atom, "vendor")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, vstats_atom, "vstats")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::vendor_call))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::vendor_outcome))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::vendor_circuit))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::vendor_circuit>))
  // One HTTP call inside the vendor client (integrations/; local only).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, vendor_http_atom, "vhttp")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, tool_atom, "tool")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::tool_call))
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, tool_approved_atom, "tool_appr")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::approved_call))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::tool_result))
  // Approvals (actors/stores/approval_store.hpp).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, appr_add_atom, "appr_add")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, appr_get_atom, "appr_get")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, appr_list_atom, "appr_list")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, appr_decide_atom, "appr_dec")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, appr_result_atom, "appr_res")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::approval_request))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::approval_filter))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::approval_decision))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::approval))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::approval>))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::approval_page))
  // The step journal (actors/stores/journal_store.hpp).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, journal_begin_atom, "jrnl_begin")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, journal_end_atom, "jrnl_end")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, journal_list_atom, "jrnl_list")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::journal_call))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::journal_entry))
  // Workflow executions and events (actors/stores/run_store.hpp).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, run_new_atom, "run_new")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, run_get_atom, "run_get")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, run_list_atom, "run_list")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, run_load_atom, "run_load")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, run_claim_atom, "run_claim")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, run_resumable_atom, "run_resum")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, run_save_atom, "run_save")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, run_events_atom, "run_events")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::run_spec))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::run_viewer))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::run_filter))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::run_row))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::run_claim))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::run_event))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::run_event>))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::run_save))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::run_saved))
  // Workflows (workflow_manager_actor).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, wf_start_atom, "wf_start")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, wf_action_atom, "wf_action")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, wf_wait_atom, "wf_wait")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, wf_msg_atom, "wf_msg")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, wf_scan_atom, "wf_scan")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, lease_atom, "lease")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, wf_approval_atom, "wf_appr")
  // Shared memory (memory_actor and its supervisor).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, mem_put_atom, "mem_put")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, mem_get_atom, "mem_get")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, mem_list_atom, "mem_list")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, mem_stored_atom, "mem_stored")
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::memory_key))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::memory_write))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (pixelcraft::memory_entry))
  CAF_ADD_TYPE_ID(pixelcraft_actors, (std::vector<pixelcraft::memory_entry>))
  // Workflow monitor (event_bus_actor, the monitor hub in http/).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, wf_event_atom, "wf_event")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, ws_sub_atom, "ws_sub")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, ws_text_atom, "ws_text")
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, ws_close_atom, "ws_close")
  // The database pool's commit lanes (persistence/pg_pool.cpp; local only).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, commit_atom, "db_commit")
  // A part's load, for the cluster's heartbeats (agent registry, model client).
  CAF_ADD_ATOM(pixelcraft_actors, pixelcraft, load_atom, "load")
CAF_END_TYPE_ID_BLOCK(pixelcraft_actors)
// clang-format on

static_assert(caf::id_block::pixelcraft_actors::end <= caf::first_custom_type_id + 200,
              "pixelcraft_actors overlaps the cluster block (+200)");

namespace pixelcraft {

/// Adds every PixelCraft type-ID block and the `pixelcraft` error category to `cfg`.
/// app/ and every test configuration call it, so that all nodes agree on the wire.
void register_types(caf::actor_system_config& cfg);

} // namespace pixelcraft
