#pragma once
/// The `agent_messages` mirror (API.md §7): every message one agent actor sends another, and
/// every status change of it, reaches the table through this actor, in batches.
///
/// - Spawned once by app/ (`spawn_message_mirror`); lives until shutdown; event-based, never
///   blocks. Agents never wait for it: `mirror_put_atom` and `mirror_status_atom` are
///   fire-and-forget, so mirroring adds no round trip to agent messaging.
/// - A status only moves forward: `pending -> delivered -> processed`, or `-> failed`
///   (a status older than the one already recorded is ignored, here and in SQL).
/// - One client's bad data never fails another's write (API.md §1 v1.1): each row is checked
///   (`mirror_row_problem`) before it joins a batch, and a refused row is dropped (logged, and
///   answered to its own `mirror_store_atom` waiter). A batch the database refuses for good is
///   retried row by row, so only the bad row fails.
/// - Batching: at most one database write is in flight; everything that arrives meanwhile forms
///   the next batch, written as one statement for the new rows and one for the status changes.
///   A batch also starts `linger` after its first item, or at once at `max_batch` items.
/// - Answers: `mirror_store_atom` replies `true` once *its own* row is stored, or with that
///   row's own error. `mirror_flush_atom` replies `true` once everything received before it is
///   stored or refused (callers use it so that a step's messages are stored before the step is
///   recorded complete). Either gets the write's error when a write holding what it waits for
///   fails for a reason that may pass (database unavailable, timeout); such writes are retried
///   (1 s apart) and keep their rows.
/// - Memory is bounded: beyond `max_queued` waiting items the oldest rows are dropped (and
///   logged; their waiters get `errc::unavailable`) rather than growing while the database is
///   away.
/// - On exit, items not yet written are logged as lost; every waiter gets an error.

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
  /// The same, for a message a client posted: replies `true` once this row is stored, or with
  /// its own error (`errc::invalid_argument` for a row refused by `mirror_row_problem`).
  caf::replies_to<mirror_store_atom, std::string>::with<bool>,
  /// Status change: a JSON array of message ids, and the new status.
  caf::reacts_to<mirror_status_atom, std::string, std::string>,
  caf::replies_to<mirror_flush_atom>::with<bool>>;

struct message_mirror_options {
  db_actor db;
  unsigned db_timeout_ms = 5000;
  size_t max_batch = 1000;
  std::chrono::milliseconds linger{5};
  size_t max_queued = 100000;
  size_t max_row_bytes = 1 << 20; ///< a row's JSON text; larger rows are refused
};

/// Why the `AgentMessage` JSON text `row` may not join a batch, or empty if it may: larger than
/// `max_bytes`; not a JSON object (invalid UTF-8 is invalid JSON); `message_id` or
/// `workflow_execution_id` not a UUID; `from_agent`, `to_agent`, `created_at` not strings;
/// `message_type` or `status` not one of theirs; `content` or `metadata` not objects; a NUL
/// character in any string or key (PostgreSQL refuses it).
std::string mirror_row_problem(const std::string& row, size_t max_bytes);

message_mirror_actor spawn_message_mirror(caf::actor_system& sys, message_mirror_options opts);

/// A new `AgentMessage` of workflow `workflow_id` from `{"from_agent", "to_agent",
/// "message_type", "content", "metadata"?}` (JSON text): a fresh `message_id`, status
/// `pending`, `created_at` now, `processed_at` null, `metadata` `{}` unless an object is given.
std::string new_agent_message(const std::string& msg, const std::string& workflow_id);

} // namespace pixelcraft
