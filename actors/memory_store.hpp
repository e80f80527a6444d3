#pragma once
/// Shared memory (API.md §7): scopes `conversation`, `workflow`, `global`; a key has a JSON
/// value, a `version` that increases on each write, an optional expiry (an expired key reads
/// as absent) and the agent that wrote it.
///
/// - `spawn_memory_supervisor` spawns a supervisor that owns the store actor and forwards every
///   request to the current store. The store writes through to `shared_memory` before it
///   acknowledges, and keeps a cache it reloads from the table when (re)started, so nothing
///   acknowledged is lost when it crashes. The supervisor re-spawns a crashed store at most
///   3 times per 60 s, then gives up and ends with the store's error (escalation).
/// - Both live until shutdown; event-based, never block.

#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db_actor.hpp"
#include "actors/fwd.hpp"

namespace pixelcraft {

using memory_actor = caf::typed_actor<
  /// In: `{"scope", "scope_id" ('' for global), "key", "value", "agent"?, "expected_version"?
  /// (compare-and-set), "ttl_s"?, "workflow_id"?, "conversation_id"?}`. Reply: the stored entry
  /// `{"key", "value", "scope", "version", "created_by_agent", "updated_at", "expires_at"}`.
  /// `errc::failed_precondition` on a version mismatch.
  caf::replies_to<mem_put_atom, std::string>::with<std::string>,
  /// In: `{"scope", "scope_id", "key"}`. Reply: the entry, or `null` when absent or expired.
  caf::replies_to<mem_get_atom, std::string>::with<std::string>,
  /// The current store (tests use it to crash the store on purpose).
  caf::replies_to<caf::get_atom>::with<caf::actor>>;

memory_actor spawn_memory_supervisor(caf::actor_system& sys, db_actor db, unsigned db_timeout_ms);

} // namespace pixelcraft
