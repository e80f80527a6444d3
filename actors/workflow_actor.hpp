#pragma once
/// Workflow executions as actors (API.md §7); implemented by workflows/.
///
/// - `workflow_manager_actor` is spawned once by app/ (`workflows::spawn_workflow_manager`),
///   lives until shutdown, and spawns and monitors one run actor per execution it runs.
/// - Durable: each execution's state, path and every completed step's result are saved to
///   `workflow_executions` before the next step starts. On start-up (and every few seconds)
///   the manager resumes executions that are pending, running, paused or awaiting approval
///   and whose lease is free or expired, from their last completed step; a step that completed
///   is never run again. A lease with an epoch (fencing) guarantees two servers never run one
///   execution at once. A run that stopped on an error here (a save or load that failed: the
///   database away, a statement timed out) keeps its lease and is run again here after 1, 2, 4
///   and 8 s (with a fresh epoch, so nothing the old run still had queued is stored), not only
///   after the lease expires.
/// - A step whose tool calls were held for a person (API.md §12) is not recorded: the run is
///   `awaiting_approval` (events `approval_requested`) until every approval it raised is
///   decided or expired (`approval_resolved`), then the step runs again with the decisions and
///   the calls' real results in `context.approvals` (the tool actor answers the same call in the
///   same step from its approval, so nothing runs twice). A step runs again at most 3 times for
///   new approvals; after that it is recorded as it is. Pause and cancel work while waiting;
///   resuming a paused run that still waits goes back to `awaiting_approval`.
/// - Replays and forks (API.md §13) are executions like any other, created with a
///   `replay_source` (and, for a fork, `replay_live_from`): their steps before that step (all of
///   a replay's) pass the source to the agents as `journal_source`, so the source's journal and
///   approvals answer every model and tool call and nothing reaches a model or vendor.
/// - In a cluster (API.md §14), a request for an execution another node runs (it holds the
///   lease) is forwarded to that node's manager (through the cluster actor's link) and answered
///   from there; one that comes from a peer is answered here only (never forwarded again).
///   At most 256 requests wait on one other node; beyond that `errc::unavailable` (retry).
///   A gateway's manager runs nothing: it creates executions and places them on a worker.
/// - Callers authorise first (http/ checks ownership). Replies that are an execution are the
///   `WorkflowExecution` as JSON text (an HTTP body).

#include "actors/cluster/protocol.hpp"
#include "actors/fwd.hpp"
#include "actors/messages.hpp"
#include "actors/stores/run_store.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace pixelcraft {

using workflow_manager_actor = caf::typed_actor<
    /// Creates and starts an execution (the spec validated by the caller; a replay or fork has
    /// its `replay_source`). Reply: the execution as created (`run_row`; `execution` is the
    /// `WorkflowExecution`).
    caf::replies_to<wf_start_atom, run_spec>::with<run_row>,
    /// `pause`, `resume` or `cancel`. Reply: the `WorkflowExecution` after the action (unchanged
    /// when the action would not change the state). `errc::failed_precondition` when the current
    /// state does not allow it (HTTP 409); `errc::not_found`.
    caf::replies_to<wf_action_atom, std::string, std::string>::with<std::string>,
    /// Waits up to N seconds for a terminal state. Reply: the `WorkflowExecution` then.
    caf::replies_to<wf_wait_atom, std::string, uint32_t>::with<std::string>,
    /// Delivers an agent message posted over HTTP (validated by the caller) to the execution:
    /// stored in `agent_messages` first, then handed to the target agent's next step. Reply: the
    /// message, `delivered`. `errc::failed_precondition` when the execution is terminal,
    /// `errc::unavailable` when the agent cannot be reached (the row is then `failed`).
    caf::replies_to<wf_msg_atom, std::string, outgoing_message>::with<agent_message>,
    /// An approval of execution `workflow_id` was decided (API.md §12): a step waiting for it
    /// looks now instead of at its next check (a run waiting for a decision also checks every
    /// second, so a lost notice only delays it). No reply.
    caf::reacts_to<wf_approval_atom, std::string>,
    /// Cluster (API.md §14). Run execution `id` now if there is capacity (a gateway placed it
    /// here); an empty id: look for executions to resume now (a peer was lost). No reply.
    caf::reacts_to<wf_run_atom, std::string>,
    /// The node whose lease owner is `owner` (`name:incarnation`) was lost: requests forwarded
    /// to it fail now with `errc::unavailable` instead of at their timeout. No reply.
    caf::reacts_to<release_atom, std::string>,
    /// Reply: this node's load (executions it runs).
    caf::replies_to<peers_atom>::with<node_load>>;

} // namespace pixelcraft
