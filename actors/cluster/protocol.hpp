#pragma once
/// The cluster's vocabulary (API.md §14): nodes of one runtime on several hosts, joined by CAF
/// remoting over mutual TLS and one PostgreSQL database.
///
/// - Identity: a node has a `name` (`NODE_NAME`) and, per process, a fresh `incarnation`
///   (uuid). `node_ref::owner()` (`name:incarnation`) is the lease owner of the executions the
///   process runs, so a restarted node never shares a lease with its zombie.
/// - Wire version: `wire_version` changes whenever a message that crosses nodes changes its
///   layout. It is the CAF application identifier (`pixelcraft-wire-N`: the middleman refuses a
///   connection from another version) and is stored in `cluster_nodes`, where a peer of another
///   version is listed as refused and never dialled.
/// - What crosses nodes: `hello` (identity check after connecting), the workflow manager's
///   requests (`workflow_manager_actor`, forwarded to the node that runs an execution),
///   workflow events (`wf_event_atom`, fanned out to every node's monitor hub), and
///   conversation turns (`chat_atom`, with the caller's listener for the model's pieces) sent to
///   the node a conversation's id hashes to.

#include "actors/fwd.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// Bump on any change to a message that crosses nodes (2: conversation turns, `load_atom`;
/// 3: typed workflow events, run specs and agent turns, type IDs renumbered; 4: typed tool
/// results, approvals, pings and circuits, type IDs renumbered; 5: step saves carry the step's
/// memory write, `mem_stored_atom`, type IDs renumbered).
constexpr int32_t wire_version = 5;

/// Requests one node keeps waiting on another at most (CAF has no backpressure across nodes):
/// forwarded workflow requests and conversation turns each; more are answered 503, retry.
constexpr size_t max_requests_per_peer = 256;

/// `pixelcraft-wire-<wire_version>`.
std::string wire_app_id();

/// A node as the membership table and the hello exchange describe it.
struct node_ref {
  std::string name;
  std::string incarnation; ///< uuid, fresh per process
  std::string role;        ///< `all`, `gateway` or `worker`
  std::string host;        ///< where its cluster listener is dialled (empty: none)
  int32_t port = 0;
  int32_t wire = wire_version;

  std::string owner() const { return name + ":" + incarnation; }
  bool runs_workflows() const { return role != "gateway"; }
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, node_ref& x) {
  return f(caf::meta::type_name("pixelcraft::node_ref"), x.name, x.incarnation, x.role, x.host,
           x.port, x.wire);
}

/// A node's load, as it reports it with its heartbeat (API.md §14 `load`).
struct node_load {
  int32_t executions = 0;    ///< executions it runs now
  int32_t agents = 0;        ///< conversations' agent actors alive
  int32_t llm_in_flight = 0; ///< model calls in flight
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, node_load& x) {
  return f(caf::meta::type_name("pixelcraft::node_load"), x.executions, x.agents, x.llm_in_flight);
}

/// The node a conversation's agent actors live on (rendezvous hashing): of the nodes that run
/// work, the one whose `name` scores highest with `conversation_id`. Keyed by name, not
/// incarnation, so a restarted worker gets its conversations back.
uint64_t home_score(const std::string& node_name, const std::string& conversation_id);

/// A row of `cluster_nodes` (membership).
struct node_row {
  node_ref node;
  node_load load;
  int64_t seen_ms_ago = 0; ///< since its last heartbeat, by the database's clock
  std::string last_seen;   ///< RFC 3339
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, node_row& x) {
  return f(caf::meta::type_name("pixelcraft::node_row"), x.node, x.load, x.seen_ms_ago,
           x.last_seen);
}

} // namespace pixelcraft

// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(pixelcraft_cluster, caf::first_custom_type_id + 200)
  CAF_ADD_TYPE_ID(pixelcraft_cluster, (pixelcraft::node_ref))
  CAF_ADD_TYPE_ID(pixelcraft_cluster, (pixelcraft::node_load))
  CAF_ADD_TYPE_ID(pixelcraft_cluster, (pixelcraft::node_row))
  CAF_ADD_TYPE_ID(pixelcraft_cluster, (std::vector<pixelcraft::node_row>))
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, hello_atom, "px_hello")
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, beat_atom, "px_beat")
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, peers_atom, "px_peers")
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, owner_atom, "px_owner")
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, place_atom, "px_place")
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, dialed_atom, "px_dialed")
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, release_atom, "px_release")
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, wf_run_atom, "wf_run")
  CAF_ADD_ATOM(pixelcraft_cluster, pixelcraft, home_atom, "px_home")
CAF_END_TYPE_ID_BLOCK(pixelcraft_cluster)
// clang-format on

static_assert(caf::id_block::pixelcraft_cluster::end <= caf::first_custom_type_id + 300,
              "pixelcraft_cluster overlaps the next block (+300)");
