#include "persistence/migrations.hpp"

#include "actors/log.hpp"
#include "persistence/detail.hpp"

#include <cstdlib>
#include <set>

namespace pixelcraft::persistence {

namespace {

// Arbitrary, fixed: the key of the advisory lock that serialises migration runners.
constexpr long long migration_lock_key = 7243001;

int version_of(const std::string& file_name) {
  return std::atoi(file_name.c_str());
}

} // namespace

int latest_schema_version() {
  int v = 0;
  for (auto& [name, sql] : embedded_migrations())
    v = std::max(v, version_of(name));
  return v;
}

std::string with_connect_timeout(const std::string& dsn, unsigned seconds) {
  if (dsn.find("connect_timeout") != std::string::npos)
    return dsn;
  auto param = "connect_timeout=" + std::to_string(seconds);
  bool uri = dsn.rfind("postgres://", 0) == 0 || dsn.rfind("postgresql://", 0) == 0;
  if (!uri)
    return dsn.empty() ? param : dsn + " " + param;
  return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + param;
}

namespace detail {

int schema_version(pqxx::connection& c) {
  pqxx::nontransaction n{c};
  auto exists = n.exec1("SELECT to_regclass('public.schema_migrations') IS NOT NULL");
  if (!exists[0].as<bool>())
    return 0;
  auto r = n.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return r[0].as<int>();
}

namespace {

/// The versions recorded in `schema_migrations` (none before the table exists).
std::set<int> applied_versions(pqxx::connection& c) {
  std::set<int> done;
  pqxx::nontransaction n{c};
  if (!n.exec1("SELECT to_regclass('public.schema_migrations') IS NOT NULL")[0].as<bool>())
    return done;
  for (auto row : n.exec("SELECT version FROM schema_migrations"))
    done.insert(row[0].as<int>());
  return done;
}

} // namespace

std::vector<std::string> migrate(pqxx::connection& c) {
  std::vector<std::string> applied;
  // Every new pool connection comes here: when nothing is pending (nearly always) it takes no
  // lock at all. A session-level lock taken here on each connect was held for good by a node
  // cut off mid-way (not in a transaction, so no idle timeout ended its session), and every
  // other node's next connection then waited for it (issue 12's partition test).
  auto done = applied_versions(c);
  for (auto& [name, sql] : embedded_migrations()) {
    auto version = version_of(name);
    if (done.count(version) != 0)
      continue;
    // The lock lives as long as this migration's transaction, which the server ends if its
    // runner goes silent (callers set idle_in_transaction_session_timeout).
    pqxx::work w{c};
    w.exec("SELECT pg_advisory_xact_lock(" + std::to_string(migration_lock_key) + ")");
    w.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
           " version integer PRIMARY KEY, name text NOT NULL,"
           " applied_at timestamptz NOT NULL DEFAULT now())");
    // Another runner may have applied it while we waited for the lock.
    if (!w.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", version).empty()) {
      w.commit();
      continue;
    }
    w.exec(sql);
    w.exec_params0("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name);
    w.commit();
    applied.push_back(name);
    log::info("pixelcraft.persistence", "migration applied",
              {{"version", version}, {"name", name}});
  }
  return applied;
}

} // namespace detail

migrate_result apply_migrations(const std::string& dsn) {
  migrate_result r;
  try {
    pqxx::connection c{with_connect_timeout(dsn, 5)};
    {
      pqxx::nontransaction n{c}; // see migrate(): a silent runner loses the lock
      n.exec("SET idle_in_transaction_session_timeout = '10s'");
    }
    r.applied = detail::migrate(c);
    r.version = detail::schema_version(c);
    r.ok = true;
  } catch (const pqxx::broken_connection&) {
    r.error = "cannot connect to the database";
  } catch (const pqxx::sql_error& e) {
    r.error = std::string{"migration failed (SQLSTATE "} + e.sqlstate() + "): " + e.what();
  } catch (const std::exception& e) {
    r.error = std::string{"migration failed: "} + e.what();
  }
  return r;
}

} // namespace pixelcraft::persistence
