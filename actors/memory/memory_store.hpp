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

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace pixelcraft {

using memory_actor = caf::typed_actor<
    /// In: `{"scope", "scope_id", "key", "value", "workflow_id", "agent"?, "expected_version"?
    /// (compare-and-set), "ttl_s"?, "conversation_id"?}`. Reply: the stored entry
    /// `{"key", "value", "scope", "version", "created_by_agent", "updated_at", "expires_at"}`.
    /// `errc::failed_precondition` on a version mismatch (only: a timeout is
    /// `caf::sec::request_timeout` or `errc::deadline_exceeded`, never read as a mismatch),
    /// `errc::permission_denied`, `errc::invalid_argument` (malformed or no `scope_id`).
    caf::replies_to<mem_put_atom, std::string>::with<std::string>,
    /// In: `{"scope", "scope_id", "key", "workflow_id"}`. Reply: the entry, or `null` when absent
    /// or expired. Errors as for `mem_put_atom`.
    caf::replies_to<mem_get_atom, std::string>::with<std::string>,
    /// The current store (tests use it to crash the store on purpose).
    caf::replies_to<caf::get_atom>::with<caf::actor>>;

memory_actor spawn_memory_supervisor(caf::actor_system& sys, db_actor db, unsigned db_timeout_ms);

} // namespace pixelcraft
