#pragma once
/// Spawns the database pool behind `db_actor` (actors/db_actor.hpp holds the contract).
///
/// - The router is event-based and delegates each request to the least busy of `size` workers
///   (fewest requests handed to it and not finished; ties in turn): a statement waiting on a
///   lock or a lane's batch holds only the requests that found every worker busy.
/// - Workers are `caf::detached` (own thread each) and linked to the router: they die with it.
/// - A worker connects on first use, applies pending migrations on each new connection,
///   sets `statement_timeout` (and the same `idle_in_transaction_session_timeout`: a frozen
///   process never holds row locks for long), and after a lost connection reconnects on the next
///   request (one retry for a request that hit a stale connection). While the database is down
///   requests fail fast with `errc::unavailable`.
/// - Group commit (issue 11): the hot writes (lead inserts, chat messages, agent logs, step
///   journal entries) go through commit lanes (half the workers, at least one). A write goes
///   at once when a lane is free; while all are busy, writes wait and the next free lane runs
///   them (up to 256) in one transaction with one commit. Each caller is answered only after
///   that commit, with its own result or error; when one write fails, the batch is retried
///   write by write, each in its own transaction, so it fails alone. No timer: at low load
///   nothing waits, and batches grow with the load.
/// - Ends when the router receives an exit message (app/ sends `user_shutdown`).

#include "actors/db_actor.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace pixelcraft::persistence {

struct pool_options {
  std::string dsn;   ///< libpq URI or key=value; empty: always unavailable
  unsigned size = 4; ///< worker connections
  unsigned statement_timeout_ms = 5000;
  unsigned connect_timeout_s = 3;
};

db_actor spawn_db_pool(caf::actor_system& sys, pool_options opts);

} // namespace pixelcraft::persistence
