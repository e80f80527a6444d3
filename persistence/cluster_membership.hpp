#pragma once
/// Cluster membership in PostgreSQL (`cluster_nodes`, API.md §14), for the cluster actor.
///
/// - `spawn_membership` starts one `caf::detached` actor with its own connection (opened on
///   first use, reopened after a failure); owned by the cluster actor, which links it.
/// - `beat_atom, self, load` → upserts this node's row (`seen_at = now()`), forgets rows not
///   seen for an hour, and replies every row seen in the last minute (this node's included),
///   with the age of its last beat by the database's clock (no clock skew between hosts).
/// - `release_atom, owner` → makes the leases held by `owner` (`name:incarnation`) expire now,
///   so the executions it ran are claimed again at once; replies how many.
/// - `release_atom, incarnation, true` on shutdown: deletes this node's row.
/// - Errors: `errc::unavailable` (no database), `errc::internal`. Each call is bounded by the
///   statement timeout; callers use `deadlines::db(db_timeout_ms)`.

#include "actors/cluster/protocol.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>
#include <vector>

namespace pixelcraft::persistence {

using membership_actor =
    caf::typed_actor<caf::replies_to<beat_atom, node_ref, node_load>::with<std::vector<node_row>>,
                     caf::replies_to<release_atom, std::string>::with<int32_t>,
                     caf::replies_to<release_atom, std::string, bool>::with<int32_t>>;

membership_actor spawn_membership(caf::actor_system& sys, std::string dsn,
                                  unsigned statement_timeout_ms);

} // namespace pixelcraft::persistence
