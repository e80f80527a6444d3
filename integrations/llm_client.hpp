#pragma once
/// Factory for the model client (contract in actors/llm_actor.hpp).

#include "actors/config.hpp"
#include "actors/llm_actor.hpp"

#include <caf/fwd.hpp>

namespace pixelcraft::integrations {

/// Spawns the client, `caf::detached`: an event-based actor that drives one curl multi handle
/// with a self-sent tick while transfers are active (each tick waits at most 10 ms in
/// `curl_multi_poll`), and idles without ticking otherwise.
llm_actor spawn_llm_client(caf::actor_system& sys, const config& cfg);

} // namespace pixelcraft::integrations
