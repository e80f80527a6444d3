#pragma once
/// The `agent_messages` mirror (API.md §7): every message one agent actor sends another, and
/// every status change of it, reaches the table through this actor, in batches.
///
/// - Implemented by persistence/ (`persistence/message_mirror.hpp`); spawned once by app/; lives
///   until shutdown; event-based, never
///   blocks. Agents never wait for it: `mirror_put_atom` and `mirror_status_atom` are
///   fire-and-forget, so mirroring adds no round trip to agent messaging.
/// - A status only moves forward: `pending -> delivered -> processed`, or `-> failed`
///   (a status older than the one already recorded is ignored, here and in SQL).
/// - One client's bad data never fails another's write (API.md §1 v1.1): each row is checked
///   (`agent_message_problem`) before it joins a batch, and a refused row is dropped (logged, and
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

#include "actors/fwd.hpp"
#include "actors/messages.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace pixelcraft {

using message_mirror_actor = caf::typed_actor<
    /// A new message (made by `make_agent_message`: its `message_id` chosen by the sender).
    caf::reacts_to<mirror_put_atom, agent_message>,
    /// The same, for a message a client posted: replies `true` once this row is stored, or with
    /// its own error (`errc::invalid_argument` for a row refused by `agent_message_problem`).
    /// Callers: `db_timeout_ms` + 4 s (deadline.hpp).
    caf::replies_to<mirror_store_atom, agent_message>::with<bool>,
    /// Status change: message ids, and the new status.
    caf::reacts_to<mirror_status_atom, std::vector<std::string>, std::string>,
    caf::replies_to<mirror_flush_atom>::with<bool>>;

} // namespace pixelcraft
