#pragma once
/// The workflow monitor hub (API.md §8): one actor that owns every monitor WebSocket.
///
/// - Spawned once by app/ (`spawn_monitor_hub`); lives until shutdown. Event-based.
/// - A new monitor without `since` first gets `initial_state` (the execution, with the `seq`
///   of the last event it reflects), then every later event; with `since=N`, the stored events
///   after N, then live ones. Live events that arrive while a monitor is being prepared are
///   buffered, so each monitor gets every event once, in order.
/// - Sends `{"type": "ping"}` every 30 s, answers a client's `{"type": "ping"}` with
///   `{"type": "pong"}`, closes with 1009 on a client frame over 64 KiB.
/// - Never waits for a socket: frames are queued on the connection. A monitor whose unsent
///   backlog exceeds `max_backlog_bytes` (beyond what its replay queued) when a live event
///   arrives is closed with 1013 and a reason naming the last `seq` queued for it; it resumes
///   with `?since=<last seq it received>`. So a slow monitor costs bounded memory and never
///   slows a workflow or the other monitors.

#include "actors/db_actor.hpp"
#include "actors/event_bus.hpp"
#include "http/request.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace pixelcraft::http {

/// A new monitor socket (local only: carries a session pointer).
struct monitor_sub {
  uint64_t id = 0;
  std::string workflow_id;
  int64_t since = -1; ///< -1: start with initial_state
  ws_session_ptr session;
};

using monitor_hub_actor =
    event_bus_actor::extend<caf::reacts_to<ws_sub_atom, monitor_sub>,
                            caf::reacts_to<ws_text_atom, uint64_t, std::string>,
                            caf::reacts_to<ws_close_atom, uint64_t>, caf::reacts_to<tick_atom>>;

monitor_hub_actor spawn_monitor_hub(caf::actor_system& sys, db_actor db, unsigned db_timeout_ms,
                                    size_t max_backlog_bytes = 4u << 20);

} // namespace pixelcraft::http

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pixelcraft::http::monitor_sub) // local only
