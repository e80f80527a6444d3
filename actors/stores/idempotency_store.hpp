#pragma once
/// Idempotency-Key records (API.md §1): a key is claimed before the work and completed after it.
///
/// - Served by the database pool (persistence/); `db_actor` includes this interface.
/// - Errors: `errc::unavailable`, `errc::deadline_exceeded`, `errc::internal`.
/// - Callers use `deadlines::db(db_timeout_ms)` as the request timeout.
/// - A claim whose request never finished (a crash) may be taken over after a minute; a record
///   lives `ttl_hours`.

#include "actors/fwd.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace pixelcraft {

/// `idem_begin_atom`'s reply.
struct idempotency_claim {
  /// `new` (claimed: run the request), `replay` (answer `status` and `body` again), `conflict`
  /// (the key was used with another request body) or `in_progress` (claimed by a request that
  /// has not finished).
  std::string state;
  int32_t status = 0; ///< `replay` only
  std::string body;   ///< `replay` only
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, idempotency_claim& x) {
  return f(caf::meta::type_name("pixelcraft::idempotency_claim"), x.state, x.status, x.body);
}

using idempotency_store = caf::typed_actor<
    /// Claims a key. In: scope (method, route and caller), key, request hash, TTL in hours.
    caf::replies_to<idem_begin_atom, std::string, std::string, std::string,
                    int32_t>::with<idempotency_claim>,
    /// Records the response of a claimed key: scope, key, status, body. Reply: `true`.
    caf::replies_to<idem_end_atom, std::string, std::string, int32_t, std::string>::with<bool>,
    /// Releases a claimed key whose request failed, so the client may retry. Reply: `true`.
    caf::replies_to<idem_drop_atom, std::string, std::string>::with<bool>>;

} // namespace pixelcraft
