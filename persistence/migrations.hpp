#pragma once
/// Schema migrations: numbered SQL files in persistence/migrations/, embedded in the binary.
///
/// Each pending file runs in its own transaction and is recorded in `schema_migrations`
/// (version, name, applied_at). When something is pending, a transaction-scoped advisory lock
/// serialises concurrent runners (two servers, or `pixelcraft migrate` beside a server), so
/// running twice or at once is safe; a runner that goes silent holds it no longer than the
/// server's idle-in-transaction timeout. When nothing is pending, no lock is taken.
/// Blocking: call from main(), a test, or a detached actor; never from a CAF scheduler thread.

#include <string>
#include <utility>
#include <vector>

namespace pixelcraft::persistence {

/// The migrations compiled into this binary, ordered by file name: (file name, SQL).
const std::vector<std::pair<std::string, std::string>>& embedded_migrations();

/// The highest version among the embedded migrations.
int latest_schema_version();

struct migrate_result {
  bool ok = false;
  std::vector<std::string> applied; ///< file names applied by this call
  int version = 0;                  ///< schema version afterwards
  std::string error;                ///< on failure; never contains the DSN or its password
};

/// Connects to `dsn`, applies what is pending and disconnects.
migrate_result apply_migrations(const std::string& dsn);

/// Adds `connect_timeout` to a libpq DSN (URI or key=value) unless it has one.
std::string with_connect_timeout(const std::string& dsn, unsigned seconds);

} // namespace pixelcraft::persistence
