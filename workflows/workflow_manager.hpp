#pragma once
/// Factory for the workflow manager (contract in actors/workflow_actor.hpp).

#include "actors/agents/agent_catalog.hpp"
#include "actors/agents/agent_registry.hpp"
#include "actors/cluster/cluster_actor.hpp"
#include "actors/db_actor.hpp"
#include "actors/event_bus.hpp"
#include "actors/memory/memory_store.hpp"
#include "actors/message_mirror.hpp"
#include "actors/workflow_actor.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace pixelcraft::workflows {

struct workflow_settings {
  unsigned request_timeout_s = 120; ///< a step's timeout when its workflow sets none
  unsigned db_timeout_ms = 5000;    ///< `DB_TIMEOUT_MS` (deadlines::db)
};

struct manager_options {
  db_actor db;
  agent_registry_actor agents;
  event_bus_actor bus; ///< where stored events are published (may be invalid)
  memory_actor memory; ///< shared memory; each step's outcome is written there (may be invalid)
  message_mirror_actor mirror; ///< agent messages' mirror; flushed before a step is recorded
  workflow_settings settings;
  std::string node_id;   ///< lease owner (`node_ref::owner()`): unique per process
  unsigned lease_s = 30; ///< `WORKFLOW_LEASE_S`
  unsigned scan_s = 5;   ///< how often to look for executions to resume
  /// A gateway runs no execution: it creates them and places each on a worker (or leaves it
  /// to the workers' scans).
  bool run_here = true;
  unsigned capacity = 10000; ///< executions run here at once, at most (claims stop there)
  cluster_actor cluster;     ///< links to other nodes (invalid: standalone)
};

workflow_manager_actor spawn_workflow_manager(caf::actor_system& sys, manager_options opts);

} // namespace pixelcraft::workflows
