#pragma once
/// The `agent_messages` mirror (API.md §7): every message one agent actor sends another, and
/// every status change of it, reaches the table through this actor, in batches.
///
/// - Spawned once by app/ (`spawn_message_mirror`); lives until shutdown; event-based, never
///   blocks. Senders never wait for it: `mirror_put_atom` and `mirror_status_atom` are
///   fire-and-forget, so mirroring adds no round trip to agent messaging.
/// - A status only moves forward: `pending -> delivered -> processed`, or `-> failed`
///   (a status older than the one already recorded is ignored, here and in SQL).
/// - Batching: at most one database write is in flight; everything that arrives meanwhile forms
///   the next batch, written as one statement for the new rows and one for the status changes.
///   A batch also starts `linger` after its first item, or at once at `max_batch` items.
/// - `mirror_flush_atom` replies `true` once everything received before it is stored (callers
///   use it so that a step's messages are stored before the step is recorded complete), or
///   with the write's error. A failed write is retried (1 s apart) while the database is
///   unavailable; a batch the database refuses for good is dropped and logged.
/// - Memory is bounded: beyond `max_queued` waiting items the oldest rows are dropped (and
///   logged) rather than growing without limit while the database is away.
/// - On exit, items not yet written are logged as lost; every flush waiter gets an error.

#include <chrono>
#include <cstddef>
#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db_actor.hpp"
#include "actors/fwd.hpp"

namespace pixelcraft {

using message_mirror_actor = caf::typed_actor<
  /// A new message: the `AgentMessage` JSON with its `message_id` (a UUID chosen by the
  /// sender), `workflow_execution_id`, `from_agent`, `to_agent`, `message_type` (validated by
  /// the sender), `content`, `metadata`, `status` and `created_at`.
  caf::reacts_to<mirror_put_atom, std::string>,
  /// Status change: a JSON array of message ids, and the new status.
  caf::reacts_to<mirror_status_atom, std::string, std::string>,
  caf::replies_to<mirror_flush_atom>::with<bool>>;

struct message_mirror_options {
  db_actor db;
  unsigned db_timeout_ms = 5000;
  size_t max_batch = 1000;
  std::chrono::milliseconds linger{5};
  size_t max_queued = 100000;
};

message_mirror_actor spawn_message_mirror(caf::actor_system& sys, message_mirror_options opts);

/// A new `AgentMessage` of workflow `workflow_id` from `{"from_agent", "to_agent",
/// "message_type", "content", "metadata"?}` (JSON text): a fresh `message_id`, status
/// `pending`, `created_at` now, `processed_at` null, `metadata` `{}` unless an object is given.
std::string new_agent_message(const std::string& msg, const std::string& workflow_id);

} // namespace pixelcraft
