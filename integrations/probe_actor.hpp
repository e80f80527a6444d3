#pragma once
/// Factory for the health-check HTTP prober (contract in actors/probe_actor.hpp).
/// Requires `curl_global_init` to have run in main() before any thread started.

#include "actors/probe_actor.hpp"

#include <caf/fwd.hpp>

namespace pixelcraft::integrations {

/// Initialises libcurl for the process. Call once in main() before any thread starts.
void global_init();

/// Spawns one `caf::detached` prober (blocking libcurl easy calls on its own thread).
probe_actor spawn_probe(caf::actor_system& sys);

} // namespace pixelcraft::integrations
