#pragma once
/// Factory for the vendor client (contract in actors/vendor_actor.hpp).

#include "actors/config.hpp"
#include "actors/vendor_actor.hpp"

#include <caf/fwd.hpp>

namespace pixelcraft::integrations {

/// Spawns the router with `workers` detached curl workers.
vendor_actor spawn_vendor_client(caf::actor_system& sys, const config& cfg, unsigned workers = 4);

} // namespace pixelcraft::integrations
