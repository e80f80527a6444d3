#pragma once
/// The composition root: the one place that wires the modules together (scripts/check-includes.sh
/// lets only app/ see them all).
///
/// - `runtime` starts every long-lived actor in dependency order (database pool, vendor client,
///   probes and health, model client, shared memory, the agent-message mirror, tools, agents,
///   the monitor hub, workflows) and records each with how it stops.
/// - `stop()` (or the destructor) stops them in reverse order: each is sent an exit and waited
///   for (at most `grace`) before the next, so a run actor ends while agents, the mirror and the
///   database are still there, and the mirror is flushed before it stops. Called once, from the
///   thread that owns the `caf::actor_system`, after the HTTP server has stopped.

#include "actors/agents/agent_catalog.hpp"
#include "actors/cluster/cluster_actor.hpp"
#include "app/config.hpp"
#include "http/api.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pixelcraft::app {

struct runtime_inputs {
  std::shared_ptr<const agent_catalog> catalog;
  std::string jwt_secret;
  bool ephemeral_secret = false;
  std::string version;
  node_ref node; ///< this process: name, incarnation, role, cluster address
};

class runtime {
public:
  runtime(caf::actor_system& sys, const config& cfg, runtime_inputs in);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// What the HTTP layer asks (valid until `stop`).
  const http::api_options& api_options() const { return api_; }

  /// Publishes this node's agent on the cluster listener (mutual TLS). Error text or empty.
  std::string listen_cluster(uint16_t port);

  /// Stops every actor, last started first; idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

private:
  struct entry {
    std::string name;
    caf::actor handle;
    std::function<void()> before_stop; ///< e.g. the mirror's flush; may be empty
  };
  void started(std::string name, caf::actor handle, std::function<void()> before_stop = {});

  caf::actor_system& sys_;
  std::vector<entry> stack_; ///< in start order
  http::api_options api_;
  cluster_actor cluster_;
  bool stopped_ = false;
};

} // namespace pixelcraft::app
