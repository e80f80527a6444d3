#pragma once
/// The cluster actor and the node agent (contracts in actors/cluster/cluster_actor.hpp), with
/// CAF remoting over mutual TLS: app/ wires them because only app/ may open network listeners.
///
/// Lifecycle: `spawn_cluster` once, before the workflow manager (whose event bus it is); then
/// `attach_manager` with the manager; then `listen` (cluster nodes only) publishes the node
/// agent on the cluster port with `caf::openssl::publish` (never plain `publish`). The runtime
/// stops it with the other actors; on its way out it deletes its membership row.

#include "actors/agents/agent_registry.hpp"
#include "actors/cluster/cluster_actor.hpp"
#include "actors/event_bus.hpp"
#include "actors/llm_actor.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace pixelcraft::app {

struct cluster_options {
  node_ref self;   ///< name, incarnation, role, advertised host and port
  std::string dsn; ///< the database (membership)
  unsigned db_timeout_ms = 5000;
  event_bus_actor hub;         ///< the local monitor hub
  agent_registry_actor agents; ///< the local agent registry (peers' turns; load)
  llm_actor llm;               ///< the local model client (load)
  bool link = false;           ///< dial peers (this node has a TLS listener)
  std::chrono::milliseconds beat{1000};
  std::chrono::milliseconds suspect_after{3000}; ///< no beat for this long: its leases go
  std::chrono::milliseconds down_after{10000};
};

cluster_actor spawn_cluster(caf::actor_system& sys, cluster_options opts);

/// Leaving (shutdown, after the workflow manager stopped): releases this node's leases and
/// deletes its membership row. Blocks up to `timeout`; returns the leases released.
int leave(caf::actor_system& sys, const cluster_actor& cluster, std::chrono::milliseconds timeout);

/// Gives the cluster the local workflow manager (for the node agent and for nudges).
void attach_manager(const cluster_actor& cluster, const workflow_manager_actor& manager);

/// Publishes the node agent on `port` (bound to `bind_host`, empty: every interface) over
/// mutual TLS. Returns an error text, empty on success.
std::string listen(caf::actor_system& sys, const cluster_actor& cluster, uint16_t port,
                   const std::string& bind_host);

} // namespace pixelcraft::app
