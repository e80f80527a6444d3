#pragma once
/// Where workflow run actors publish their events (API.md §8); implemented by the monitor hub
/// in http/, which owns every WebSocket monitor.
///
/// - Events are published after they are stored (with their `seq` and `timestamp`), in `seq`
///   order per workflow.
/// - Fire-and-forget: a slow or absent monitor never slows a workflow.

#include "actors/fwd.hpp"
#include "actors/stores/run_store.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace pixelcraft {

/// `workflow_id`, the stored event.
using event_bus_actor = caf::typed_actor<caf::reacts_to<wf_event_atom, std::string, run_event>>;

} // namespace pixelcraft
