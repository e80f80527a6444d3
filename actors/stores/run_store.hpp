#pragma once
/// Workflow executions and their events (API.md §7, §8): the typed store interface of the
/// `workflow_executions` and `workflow_events` tables.
///
/// - Served by the database pool (persistence/); `db_actor` includes this interface. Step saves
///   (`run_save_atom`) of many executions commit together in the pool's commit lanes.
/// - The execution as clients see it (`WorkflowExecution`) is rendered by the database
///   (`pixelcraft_workflow_json`, migrations 0003 and 0008) as JSON text, for HTTP bodies and
///   monitor frames; it never carries the server's own fields (configuration, input, owner,
///   lease), which come as typed fields of `run_row`.
/// - Errors: `errc::not_found` (no such execution, or one the viewer may not see),
///   `errc::aborted` (the lease is held by another node, or was lost: the caller must stop),
///   `errc::invalid_argument` (a value the table refuses), `errc::unavailable`,
///   `errc::deadline_exceeded`, `errc::internal`.
/// - Callers use `deadlines::db(db_timeout_ms)` as the request timeout; `run_save_atom` waits in
///   a commit lane, so its callers use `deadlines::db_lane(db_timeout_ms)`.

#include "actors/fwd.hpp"
#include "actors/stores/shared_memory_store.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// A new execution (`run_new_atom`), validated by the caller (`workflows::check_run_spec`).
struct run_spec {
  std::string workflow_type;
  std::vector<std::string> participating_agents;
  std::string conversation_id;        ///< empty: none
  std::string workflow_config = "{}"; ///< JSON object text
  std::string input_data = "{}";      ///< JSON object text
  std::string metadata = "{}";        ///< JSON object text
  std::string owner_id;               ///< who started it (a `sub`)
  bool owner_admin = false;           ///< an admin started it (may write `system` memory)
  std::string replay_source;          ///< API.md §13: the execution it replays; empty: none
  int32_t replay_live_from = -1;      ///< a fork's first live step; -1: none
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, run_spec& x) {
  return f(caf::meta::type_name("pixelcraft::run_spec"), x.workflow_type, x.participating_agents,
           x.conversation_id, x.workflow_config, x.input_data, x.metadata, x.owner_id,
           x.owner_admin, x.replay_source, x.replay_live_from);
}

/// Who reads: admins see every execution, everyone else the ones they started.
struct run_viewer {
  std::string owner_id;
  bool admin = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, run_viewer& x) {
  return f(caf::meta::type_name("pixelcraft::run_viewer"), x.owner_id, x.admin);
}

/// Which executions, newest first. Empty text: no condition.
struct run_filter {
  run_viewer viewer;
  std::string conversation_id;
  std::string workflow_type;
  std::string current_state;
  int32_t limit = 50;
  int32_t offset = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, run_filter& x) {
  return f(caf::meta::type_name("pixelcraft::run_filter"), x.viewer, x.conversation_id,
           x.workflow_type, x.current_state, x.limit, x.offset);
}

/// An execution as its run actor needs it: the client's document and the server's fields.
struct run_row {
  std::string workflow_id;
  std::string execution; ///< `WorkflowExecution`, JSON text
  std::string workflow_type;
  std::string current_state;
  std::vector<std::string> participating_agents;
  std::string conversation_id;       ///< empty: none
  std::string execution_path = "[]"; ///< JSON array text
  std::string results = "{}";        ///< JSON object text
  std::string workflow_config = "{}";
  std::string input_data = "{}";
  std::string owner_id; ///< empty: none
  bool owner_admin = false;
  int64_t last_event_seq = 0; ///< the newest stored event's `seq` (0: none)
  std::string replay_source;  ///< empty: not a replay
  int32_t replay_live_from = -1;
  std::string
      lease_owner; ///< the node holding an unexpired lease (`name:incarnation`); empty: none
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, run_row& x) {
  return f(caf::meta::type_name("pixelcraft::run_row"), x.workflow_id, x.execution, x.workflow_type,
           x.current_state, x.participating_agents, x.conversation_id, x.execution_path, x.results,
           x.workflow_config, x.input_data, x.owner_id, x.owner_admin, x.last_event_seq,
           x.replay_source, x.replay_live_from, x.lease_owner);
}

/// A lease on an execution for one node (`run_claim_atom`).
struct run_claim {
  std::string workflow_id;
  std::string node; ///< `name:incarnation`
  int32_t lease_s = 30;
  /// A new run actor's first claim: the epoch always moves on, even on the node that holds the
  /// lease, so whatever an earlier run of this node still has in flight is refused. A renewal
  /// (false) keeps the epoch.
  bool fresh = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, run_claim& x) {
  return f(caf::meta::type_name("pixelcraft::run_claim"), x.workflow_id, x.node, x.lease_s,
           x.fresh);
}

/// One event of an execution (API.md §8). In a save, `seq` and `timestamp` are set by the store.
struct run_event {
  int64_t seq = 0;
  std::string event_type;
  std::string data = "{}"; ///< JSON object text
  std::string timestamp;   ///< RFC 3339
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, run_event& x) {
  return f(caf::meta::type_name("pixelcraft::run_event"), x.seq, x.event_type, x.data, x.timestamp);
}

/// Progress of an execution (`run_save_atom`), fenced by the lease epoch. A save is the run's
/// whole progress: state, step, path and results are all written as given.
struct run_save {
  std::string workflow_id;
  int64_t lease_epoch = 0;
  std::string current_state;
  int32_t current_step = 0;
  std::string execution_path = "[]"; ///< JSON array text
  std::string results = "{}";        ///< JSON object text
  bool set_error = false;            ///< store `error_message` (empty: clears it)
  std::string error_message;
  bool completed = false; ///< the execution ended: stamps `completed_at`, frees the lease
  std::vector<run_event> events;
  /// A step's outcome, written in the same transaction as workflow memory `<memory_agent>`
  /// (routing rules read it as `memory.<agent>`), with its `memory_updated` event placed after
  /// the first `memory_event_at` of `events` (the step's own; what follows belongs to the next
  /// step or the end). Empty: no memory write.
  std::string memory_agent;
  std::string memory_value = "null";     ///< JSON text
  uint32_t memory_event_at = UINT32_MAX; ///< clamped to `events.size()` (default: after all)
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, run_save& x) {
  return f(caf::meta::type_name("pixelcraft::run_save"), x.workflow_id, x.lease_epoch,
           x.current_state, x.current_step, x.execution_path, x.results, x.set_error,
           x.error_message, x.completed, x.events, x.memory_agent, x.memory_value,
           x.memory_event_at);
}

/// What a save stored.
struct run_saved {
  std::string execution;         ///< `WorkflowExecution` after the save, JSON text
  std::vector<run_event> events; ///< with their `seq` and `timestamp`
  memory_entry memory;           ///< the step's memory write (version 0: none asked)
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, run_saved& x) {
  return f(caf::meta::type_name("pixelcraft::run_saved"), x.execution, x.events, x.memory);
}

using run_store = caf::typed_actor<
    /// Creates an execution (state `pending`). Reply: the execution as loaded.
    caf::replies_to<run_new_atom, run_spec>::with<run_row>,
    /// One execution (a UUID) the viewer may see. Reply: the `WorkflowExecution`.
    caf::replies_to<run_get_atom, std::string, run_viewer>::with<std::string>,
    /// A page of the executions the viewer may see. Reply: `{"items": [WorkflowExecution],
    /// "total"}`.
    caf::replies_to<run_list_atom, run_filter>::with<std::string>,
    /// One execution (a UUID), whoever owns it: for the server's own use (run actors, the
    /// monitor hub, replays; callers authorise first). Reply: the execution as loaded.
    caf::replies_to<run_load_atom, std::string>::with<run_row>,
    /// Takes or renews a lease. Reply: the lease epoch; `errc::aborted` when another node holds
    /// an unexpired lease.
    caf::replies_to<run_claim_atom, run_claim>::with<int64_t>,
    /// Ids of executions that should be running (pending, running, paused, awaiting approval)
    /// and whose lease is free or expired, oldest first, at most `limit`.
    caf::replies_to<run_resumable_atom, int32_t>::with<std::vector<std::string>>,
    /// Saves progress if the caller still holds the lease epoch, and appends the events, numbered
    /// in order; with `memory_agent`, writes that workflow memory key in the same transaction.
    /// Reply: what was stored; `errc::aborted` when the lease was lost.
    caf::replies_to<run_save_atom, run_save>::with<run_saved>,
    /// The stored events of an execution (a UUID) after `seq`, in order.
    caf::replies_to<run_events_atom, std::string, int64_t>::with<std::vector<run_event>>>;

} // namespace pixelcraft
