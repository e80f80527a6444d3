#pragma once
/// The node's view of its cluster (API.md §14), and what one node exposes to the others.
///
/// `cluster_actor` (local; spawned once by app/ `spawn_cluster`, lives until shutdown):
/// - Beats: every second it writes this node's row of `cluster_nodes` (with its load) and reads
///   everyone's (persistence/cluster_membership.hpp). Standalone, it still writes its row (a
///   second standalone process on the same database shows up as a peer without a link).
/// - Links: with a cluster listener it dials every live peer of the same wire version whose
///   incarnation sorts after its own, over mutual TLS (`caf::openssl::remote_actor`, in a
///   detached dialer), says `hello` with its own agent (the peer links back over the same
///   connection: CAF keeps one route per pair of nodes), and monitors the peer's agent. A peer is
///   `up` while linked and beating, `suspect` when its link is gone or its beat is 3 s old, `down`
///   after 10 s without a beat. When a peer has stopped beating for 3 s (a crash, a frozen host or
///   a cut link), the leases of the executions it ran are released at once, so workers resume them
///   from their last completed step (the lease epoch fences the old owner out if it comes back).
/// - Events: run actors publish here (`event_bus_actor`); each event goes to the local monitor
///   hub and to every linked peer, whose hub serves the monitors it owns.
/// - Load: with each beat it reports the executions it runs (workflow manager), its
///   conversations' agent actors (agent registry) and its model calls in flight (model client).
/// - Requests (callers use `deadlines::db(...)`-sized timeouts; none waits on the network):
///   `peers_atom` → the `/health` `node` object as JSON text; `owner_atom, owner` → the workflow
///   manager of the node holding that lease owner (`errc::unavailable` when not linked);
///   `place_atom` → the manager of the linked worker with the least load that runs workflows
///   (`errc::unavailable` when none); `home_atom, conversation_id` → the node agent of the node
///   the conversation lives on (`home_score` over this node, when it runs work, and the linked
///   `up` peers that run work), or an invalid handle when that is this node or no node qualifies.
/// - `forget_atom, conversation_id`: passed to every linked peer's agent registry (a deleted
///   conversation's agent actors go wherever they live).
///
/// `node_agent_actor` (published on `CLUSTER_PORT` with mutual TLS; one per node): the workflow
/// manager's interface (forwarded to the local manager, which answers only for executions it
/// runs), conversation turns and `forget` (given to the local agent registry, never forwarded
/// again), `hello` (identity and wire version), and events from peers for the local hub.

#include "actors/cluster/protocol.hpp"
#include "actors/event_bus.hpp"
#include "actors/workflow_actor.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace pixelcraft {

using node_agent_actor = workflow_manager_actor::extend<
    /// In: the caller's identity and its own node agent (one link per pair of nodes: the node
    /// with the smaller incarnation dials, and the other links back over that connection).
    /// Reply: this node's identity, or `errc::failed_precondition` when the wire versions
    /// differ.
    caf::replies_to<hello_atom, node_ref, caf::actor>::with<node_ref>,
    /// An event of an execution another node runs: `workflow_id`, the stored event.
    caf::reacts_to<wf_event_atom, std::string, run_event>,
    /// A conversation turn for this node's agent registry (`agent_registry_actor`'s contract;
    /// the listener is on the caller's node). The caller waits the turn's budget + margin / 2.
    caf::replies_to<chat_atom, agent_turn, caf::actor>::with<agent_reply>,
    /// A deleted conversation: its agent actors here end.
    caf::reacts_to<forget_atom, std::string>>;

using cluster_actor =
    event_bus_actor::extend<caf::replies_to<peers_atom>::with<std::string>,
                            caf::replies_to<owner_atom, std::string>::with<workflow_manager_actor>,
                            caf::replies_to<place_atom>::with<workflow_manager_actor>,
                            caf::replies_to<home_atom, std::string>::with<node_agent_actor>,
                            caf::reacts_to<forget_atom, std::string>>;

} // namespace pixelcraft
