#pragma once
/// Conversations live on the node their id hashes to (API.md §14 placement).
///
/// `spawn_agent_router` (app/ spawns one on a cluster node, after the cluster actor and the
/// local agent registry; it lives until shutdown) returns an `agent_registry_actor` that the
/// HTTP layer uses in place of the local registry:
/// - A turn with a `conversation_id` (and no `workflow_id`) goes to the node the cluster names
///   for it (`home_atom`); when that is this node, or no node that runs work is linked (a
///   gateway alone), it runs here. A forwarded turn keeps its listener (the model's pieces
///   cross back to it) and its reply comes from the other node.
/// - At most `max_requests_per_peer` (protocol.hpp) turns wait on one peer (more:
/// `errc::unavailable`, the
///   caller answers 503). The router monitors each peer it forwards to: when the link goes
///   (a crash at once, a frozen host when the heartbeat gives up), the turns waiting on it fail
///   at once with `errc::unavailable` instead of running to their deadline; the next turn of
///   that conversation goes to the node it hashes to among the ones left (its history is in
///   the database).
/// - A forwarded turn is waited for its budget (`budget_ms`) + `deadlines::margin` / 2, inside
///   the caller's own wait (budget + margin).
/// - Everything else (workflow steps, one-shot turns, peers, counts, load) is the local
///   registry's; `forget_atom` also goes to every linked peer.

#include "actors/agents/agent_registry.hpp"
#include "actors/cluster/cluster_actor.hpp"

#include <caf/fwd.hpp>

namespace pixelcraft::app {

struct agent_router_options {
  agent_registry_actor local;
  cluster_actor cluster;
  unsigned request_timeout_s = 120; ///< a turn's budget when it carries none
};

agent_registry_actor spawn_agent_router(caf::actor_system& sys, agent_router_options opts);

} // namespace pixelcraft::app
