#pragma once
/// Shared memory (API.md §7): a key has a JSON value, a `version` that increases on each write,
/// an optional expiry (an expired key reads as absent) and the agent that wrote it. Scopes and
/// their `scope_id` (v1.1):
/// - `workflow`: the execution's id; `conversation`: the conversation's id;
/// - `global`: the sub of the execution's owner: global *to the owner*, so one owner never
///   reads or writes another owner's keys;
/// - `system`: '' (one scope for everyone); every run reads it, only admin-owned runs write it.
/// Every request for `workflow`, `global` or `system` carries `workflow_id` (the run asking);
/// the database checks `scope_id` against that execution (`errc::permission_denied` when it
/// names another owner's keys, or for a `system` write by a run an admin does not own).
///
/// - `spawn_memory_supervisor` spawns a supervisor that owns the store actor and forwards every
///   request to the current store. The store writes through to `shared_memory` before it
///   acknowledges, and keeps a cache it reloads from the table when (re)started, so nothing
///   acknowledged is lost when it crashes. The supervisor re-spawns a crashed store at most
///   3 times per 60 s, then gives up and ends with the store's error (escalation).
/// - Both live until shutdown; event-based, never block.

#include "actors/db_actor.hpp"
#include "actors/fwd.hpp"
#include "actors/stores/shared_memory_store.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace pixelcraft {

using memory_actor = caf::typed_actor<
    /// Writes a key (actors/stores/shared_memory_store.hpp `memory_write`). Reply: the stored
    /// entry. `errc::failed_precondition` on a version mismatch (only: a timeout is
    /// `caf::sec::request_timeout` or `errc::deadline_exceeded`, never read as a mismatch),
    /// `errc::permission_denied`, `errc::invalid_argument` (no key, unknown scope, a scope id
    /// missing, or given for `system`). Callers: `deadlines::db` + 1 s.
    caf::replies_to<mem_put_atom, memory_write>::with<memory_entry>,
    /// Reads a key. Reply: the entry, or one with `version` 0 when absent or expired. Errors as
    /// for `mem_put_atom`.
    caf::replies_to<mem_get_atom, memory_key>::with<memory_entry>,
    /// A write of a cached key made in another transaction (a workflow step's save writes
    /// `memory.<agent>` with the step): the cache takes the entry unless it holds a newer
    /// version. One-way; senders send it after that transaction committed.
    caf::reacts_to<mem_stored_atom, memory_key, memory_entry>,
    /// The current store (tests use it to crash the store on purpose).
    caf::replies_to<caf::get_atom>::with<caf::actor>>;

memory_actor spawn_memory_supervisor(caf::actor_system& sys, db_actor db, unsigned db_timeout_ms);

} // namespace pixelcraft
