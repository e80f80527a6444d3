#pragma once
/// The writer behind `message_mirror_actor` (its contract is in actors/message_mirror.hpp):
/// batches agent messages and their status changes into `agent_messages` through the database
/// pool. Spawned once by app/.

#include "actors/db_actor.hpp"
#include "actors/message_mirror.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>

namespace pixelcraft {

struct message_mirror_options {
  db_actor db;
  unsigned db_timeout_ms = 5000;
  size_t max_batch = 1000;
  std::chrono::milliseconds linger{5};
  size_t max_queued = 100000;
  size_t max_row_bytes = 1 << 20; ///< a message's bytes; larger ones are refused
};

message_mirror_actor spawn_message_mirror(caf::actor_system& sys, message_mirror_options opts);

} // namespace pixelcraft
