#pragma once
/// Where workflow run actors publish their events (API.md §8); implemented by the monitor hub
/// in http/, which owns every WebSocket monitor.
///
/// - Events are published after they are stored (with their `seq`), in `seq` order per
///   workflow: `{"seq", "event_type", "data", "timestamp"}` as JSON text.
/// - Fire-and-forget: a slow or absent monitor never slows a workflow.

#include "actors/fwd.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace pixelcraft {

using event_bus_actor = caf::typed_actor<caf::reacts_to<wf_event_atom, std::string, std::string>>;

} // namespace pixelcraft
