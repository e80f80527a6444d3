#include "persistence/migrations.hpp"
#include "tests/support/pg.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

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
