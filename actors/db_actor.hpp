#pragma once
/// The database interface the rest of the runtime talks to; implemented by persistence/.
///
/// - Spawned by app/ through `persistence::spawn_db_pool`: one event-based router in front of N
///   `detached` workers, each owning one libpqxx connection (connections are not thread-safe and
///   every call blocks). The router lives until the system shuts down; workers are linked to it.
/// - A worker (re)connects lazily and applies pending migrations on every new connection (under
///   an advisory lock), so a database that comes back is migrated and used without a restart.
/// - It serves every typed store interface (`conversation_store`, `run_store`, ...), one per
///   aggregate; each header documents its messages. Every handler may fail with:
///   `errc::unavailable` (database unreachable: HTTP 503), `errc::deadline_exceeded` (statement
///   timeout), `errc::internal` (anything unexpected; never carries SQL to clients).
///   Callers use `deadlines::db(db_timeout_ms)` as the request timeout.

#include "actors/fwd.hpp"
#include "actors/stores/agent_message_store.hpp"
#include "actors/stores/approval_store.hpp"
#include "actors/stores/conversation_store.hpp"
#include "actors/stores/idempotency_store.hpp"
#include "actors/stores/journal_store.hpp"
#include "actors/stores/lead_store.hpp"
#include "actors/stores/run_store.hpp"
#include "actors/stores/shared_memory_store.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace pixelcraft {

/// A round trip to the database (`ping_atom`).
struct db_ping {
  double latency_ms = 0;      ///< one `SELECT 1` on a pooled connection
  int32_t schema_version = 0; ///< the newest migration applied
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, db_ping& x) {
  return f(caf::meta::type_name("pixelcraft::db_ping"), x.latency_ms, x.schema_version);
}

using db_actor = caf::typed_actor<
    /// Round trip to the database (the health checks).
    caf::replies_to<ping_atom>::with<db_ping>>::extend_with<lead_store, conversation_store,
                                                            idempotency_store, shared_memory_store,
                                                            agent_message_store, approval_store,
                                                            journal_store, run_store>;

} // namespace pixelcraft
