#include "persistence/migrations.hpp"
#include "tests/support/pg.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

using namespace pixelcraft;

TEST(MigrationsTest, ApplyOnceThenNothingPending) {
  PIXELCRAFT_REQUIRE_PG();
  auto dsn = test::create_database();
  auto first = persistence::apply_migrations(dsn);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.applied.size(), persistence::embedded_migrations().size());
  EXPECT_EQ(first.version, persistence::latest_schema_version());
  auto second = persistence::apply_migrations(dsn);
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.version, first.version);

  pqxx::connection c{dsn};
  pqxx::nontransaction n{c};
  for (auto table :
       {"leads", "conversations", "messages", "agent_logs", "workflow_executions", "agent_messages",
        "shared_memory", "idempotency_keys", "schema_migrations", "workflow_events"})
    EXPECT_FALSE(n.exec1(std::string{"SELECT to_regclass('public."} + table + "')")[0].is_null())
        << table;
  EXPECT_EQ(n.exec1("SELECT count(*) FROM schema_migrations")[0].as<size_t>(),
            persistence::embedded_migrations().size());
}

TEST(MigrationsTest, TheJsonRenderingFunctionsAreInlinedIntoTheStatements) {
  // A SQL function PostgreSQL does not inline is run through the SQL-function executor, which
  // parses its body again at every statement (it was a third of the database's time on lead
  // submits). A body more volatile than the function's declaration is never inlined.
  PIXELCRAFT_REQUIRE_PG();
  auto dsn = test::create_database();
  ASSERT_TRUE(persistence::apply_migrations(dsn).ok);
  pqxx::connection c{dsn};
  pqxx::work w{c};
  std::string plan;
  for (auto row :
       w.exec("EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO leads (name, email)"
              " VALUES ('Ada', 'ada@example.com') RETURNING pixelcraft_lead_json(leads)"))
    plan += row[0].as<std::string>() + "\n";
  for (auto row : w.exec("EXPLAIN (VERBOSE, COSTS OFF) SELECT pixelcraft_workflow_json(w)"
                         " FROM workflow_executions w"))
    plan += row[0].as<std::string>() + "\n";
  EXPECT_NE(plan.find("to_char"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("pixelcraft_"), std::string::npos) << plan;
}

TEST(MigrationsTest, ConcurrentRunnersApplyEachMigrationOnce) {
  PIXELCRAFT_REQUIRE_PG();
  auto dsn = test::create_database();
  persistence::migrate_result a, b, c;
  std::thread t1([&] { a = persistence::apply_migrations(dsn); });
  std::thread t2([&] { b = persistence::apply_migrations(dsn); });
  std::thread t3([&] { c = persistence::apply_migrations(dsn); });
  t1.join();
  t2.join();
  t3.join();
  ASSERT_TRUE(a.ok) << a.error;
  ASSERT_TRUE(b.ok) << b.error;
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(a.applied.size() + b.applied.size() + c.applied.size(),
            persistence::embedded_migrations().size());
  EXPECT_EQ(a.version, persistence::latest_schema_version());
  EXPECT_EQ(b.version, persistence::latest_schema_version());
}

// The key persistence/migrations.cpp locks.
constexpr const char* migration_lock = "7243001";

TEST(MigrationsTest, ARunnerThatWentSilentHoldingTheLockBlocksNoOne) {
  PIXELCRAFT_REQUIRE_PG();
  auto dsn = test::create_database();
  // Mid-migration, cut off: its transaction holds the lock and never says another word. The
  // server ends it after its idle timeout, and the next runner goes on.
  pqxx::connection silent{dsn};
  pqxx::nontransaction{silent}.exec("SET idle_in_transaction_session_timeout = '1s'");
  pqxx::work held{silent};
  held.exec(std::string{"SELECT pg_advisory_xact_lock("} + migration_lock + ")");
  auto started = std::chrono::steady_clock::now();
  auto r = persistence::apply_migrations(dsn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.version, persistence::latest_schema_version());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
  // Once the schema is current a connection takes no lock at all, so not even a session that
  // holds it for good (as one that locked the whole session used to) delays a new connection.
  auto holder = std::make_unique<pqxx::connection>(dsn);
  pqxx::nontransaction{*holder}.exec(std::string{"SELECT pg_advisory_lock("} + migration_lock +
                                     ")");
  persistence::migrate_result again;
  std::atomic<bool> finished{false};
  std::thread next([&] {
    again = persistence::apply_migrations(dsn);
    finished = true;
  });
  for (int i = 0; i < 100 && !finished; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(finished) << "a connection to a current schema waited for the migration lock";
  holder.reset(); // lets a waiting runner go, so the thread ends either way
  next.join();
  EXPECT_TRUE(again.ok) << again.error;
  EXPECT_TRUE(again.applied.empty());
}

TEST(MigrationsTest, UnreachableDatabaseIsAnErrorWithoutSecrets) {
  auto r =
      persistence::apply_migrations("postgresql://postgres:hunter2secret@127.0.0.1:1/postgres");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.find("hunter2secret"), std::string::npos) << r.error;
}

TEST(MigrationsTest, ConnectTimeoutIsAddedOnce) {
  EXPECT_EQ(persistence::with_connect_timeout("postgresql://h/db", 3),
            "postgresql://h/db?connect_timeout=3");
  EXPECT_EQ(persistence::with_connect_timeout("postgresql://h/db?sslmode=require", 3),
            "postgresql://h/db?sslmode=require&connect_timeout=3");
  EXPECT_EQ(persistence::with_connect_timeout("host=h dbname=d", 3),
            "host=h dbname=d connect_timeout=3");
  EXPECT_EQ(persistence::with_connect_timeout("host=h connect_timeout=9", 3),
            "host=h connect_timeout=9");
}
