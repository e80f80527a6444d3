#pragma once
/// Shared memory's table (API.md §7, `shared_memory`): the typed store interface behind the
/// memory actor (actors/memory/memory_store.hpp, which documents scopes and their rules), and
/// the entry types both speak.
///
/// - Served by the database pool (persistence/); `db_actor` includes this interface.
/// - Errors: `errc::invalid_argument` (unknown scope, no scope id, a value that is not JSON),
///   `errc::not_found` (the run asking does not exist), `errc::permission_denied` (another
///   owner's keys, or a `system` write by a run an admin does not own),
///   `errc::failed_precondition` (compare-and-set version mismatch, only), and
///   `errc::unavailable`, `errc::deadline_exceeded`, `errc::internal`.
/// - Callers use `deadlines::db(db_timeout_ms)` as the request timeout.

#include "actors/fwd.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// Which key, for whom.
struct memory_key {
  std::string scope;    ///< `workflow`, `conversation`, `global` or `system`
  std::string scope_id; ///< the scope's id ('' only for `system`)
  std::string key;
  std::string workflow_id; ///< the run asking (needed by `workflow`, `global`, `system`)
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, memory_key& x) {
  return f(caf::meta::type_name("pixelcraft::memory_key"), x.scope, x.scope_id, x.key,
           x.workflow_id);
}

/// A write of one key.
struct memory_write {
  memory_key at;
  std::string value = "null";    ///< JSON text (any JSON value), made at the edge
  std::string agent;             ///< who writes; empty: nobody in particular
  std::string conversation_id;   ///< the run's conversation, if any
  int64_t expected_version = -1; ///< compare-and-set against this version; -1: unconditional
  double ttl_s = -1;             ///< expires after this many seconds; < 0: never
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, memory_write& x) {
  return f(caf::meta::type_name("pixelcraft::memory_write"), x.at, x.value, x.agent,
           x.conversation_id, x.expected_version, x.ttl_s);
}

/// A stored key (`version` 0: absent or expired, for `mem_get_atom`).
struct memory_entry {
  std::string key;
  std::string value = "null"; ///< JSON text
  std::string scope;
  int64_t version = 0;          ///< 1 on the first write, +1 on each; 1 again after an expiry
  std::string created_by_agent; ///< empty: none
  std::string updated_at;       ///< RFC 3339, UTC
  std::string expires_at;       ///< RFC 3339, UTC; empty: never

  bool found() const { return version > 0; }
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, memory_entry& x) {
  return f(caf::meta::type_name("pixelcraft::memory_entry"), x.key, x.value, x.scope, x.version,
           x.created_by_agent, x.updated_at, x.expires_at);
}

/// The API's `MemoryEntry` JSON text (API.md §7): `{"key", "value", "scope", "version",
/// "created_by_agent", "updated_at", "expires_at"}` (absent strings as null).
std::string memory_entry_json(const memory_entry& e);

/// `{"items": [MemoryEntry]}`.
std::string memory_list_json(const std::vector<memory_entry>& entries);

using shared_memory_store = caf::typed_actor<
    /// Writes a key (with `expected_version`, only if the stored version matches). Reply: the
    /// stored entry.
    caf::replies_to<mem_put_atom, memory_write>::with<memory_entry>,
    /// Reads one unexpired key. Reply: the entry, or one with `version` 0 when absent.
    caf::replies_to<mem_get_atom, memory_key>::with<memory_entry>,
    /// The memory a run sees, unexpired, by scope then key: its own keys, its conversation's,
    /// its owner's `global` keys and the `system` ones. In: workflow id, conversation id (may
    /// be empty).
    caf::replies_to<mem_list_atom, std::string, std::string>::with<std::vector<memory_entry>>>;

} // namespace pixelcraft
