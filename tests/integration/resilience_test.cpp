// The server without its database, rate limiting, and secrets staying out of logs.
#include "tests/integration/server_fixture.hpp"
#include "tests/support/eventually.hpp"

#include <chrono>
#include <thread>

namespace pixelcraft::test {

// Starts with the database down (never migrated), then brings it up, stops it and starts it
// again: 503 while down, migrated and serving once back, all without a restart.
TEST(DatabaseOutageTest, ServesWithoutTheDatabaseAndRecoversWithoutRestart) {
  PIXELCRAFT_REQUIRE_PG();
  own_cluster db;
  ASSERT_TRUE(db.start());
  ASSERT_TRUE(db.stop());
  server_process srv;
  ASSERT_TRUE(srv.start({{"DATABASE_URL", db.uri()},
                         {"SUPABASE_JWT_SECRET", ServerTest::secret},
                         {"OLLAMA_HOST", "http://127.0.0.1:9"}}))
      << srv.stderr_text();
  auto url = srv.base_url();
  auto submit = [&] {
    return http_call("POST", url + "/api/leads/submit", ServerTest::valid_lead().dump());
  };
  auto down = submit();
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_TRUE(json::parse(down.body)["detail"].is_string());
  EXPECT_EQ(down.body.find("SELECT"), std::string::npos);
  EXPECT_EQ(http_call("GET", url + "/health/ready").status, 503);
  auto health = json::parse(http_call("GET", url + "/health").body);
  EXPECT_EQ(health["status"], "unhealthy");
  EXPECT_EQ(health["services"]["database"]["status"], "unhealthy");
  EXPECT_EQ(http_call("GET", url + "/health/live").status, 200);
  EXPECT_EQ(
      http_call("GET", url + "/api/leads", "", {ServerTest::bearer(ServerTest::admin_token())})
          .status,
      503);

  ASSERT_TRUE(db.start());
  EXPECT_TRUE(
      eventually([&] { return http_call("GET", url + "/health/ready").status == 200; }, 20));
  EXPECT_TRUE(eventually([&] { return submit().status == 201; }, 10));

  ASSERT_TRUE(db.stop());
  EXPECT_TRUE(eventually([&] { return submit().status == 503; }, 10));
  ASSERT_TRUE(db.start());
  EXPECT_TRUE(eventually([&] { return submit().status == 201; }, 20));
  auto list =
      http_call("GET", url + "/api/leads", "", {ServerTest::bearer(ServerTest::admin_token())});
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json::parse(list.body)["total"], 2);
  EXPECT_EQ(srv.stop(), 0);
}

TEST(RateLimitTest, AnonymousWritesGet429WithRetryAfter) {
  PIXELCRAFT_REQUIRE_PG();
  server_process srv;
  ASSERT_TRUE(srv.start({{"DATABASE_URL", create_database()},
                         {"SUPABASE_JWT_SECRET", ServerTest::secret},
                         {"OLLAMA_HOST", "http://127.0.0.1:9"},
                         {"RATE_LIMIT_BURST", "3"},
                         {"RATE_LIMIT_PER_MINUTE", "1"}}))
      << srv.stderr_text();
  auto body = ServerTest::valid_lead().dump();
  int created = 0;
  http_result limited;
  for (int i = 0; i < 5; ++i) {
    auto r = http_call("POST", srv.base_url() + "/api/leads/submit", body);
    if (r.status == 201)
      ++created;
    else
      limited = r;
  }
  EXPECT_EQ(created, 3);
  EXPECT_EQ(limited.status, 429);
  EXPECT_GE(std::atoi(limited.header("retry-after").c_str()), 1);
  // Authenticated callers are not limited by the anonymous bucket.
  EXPECT_EQ(http_call("POST", srv.base_url() + "/api/leads/submit", body,
                      {ServerTest::bearer(ServerTest::user_token())})
                .status,
            201);
  srv.stop();
}

TEST(SecretsTest, NoSecretOrTokenInLogsOrResponses) {
  PIXELCRAFT_REQUIRE_PG();
  const std::string db_password_marker = "pw-should-never-show-7f3a";
  server_process srv;
  // A DSN with a password that cannot work: the server must not echo it anywhere.
  ASSERT_TRUE(srv.start(
      {{"DATABASE_URL", "postgresql://postgres:" + db_password_marker + "@127.0.0.1:1/postgres"},
       {"SUPABASE_JWT_SECRET", ServerTest::secret},
       {"OLLAMA_HOST", "http://127.0.0.1:9"},
       {"CRM_API_KEY", "crm-key-never-logged-91"},
       {"CRM_API_URL", "http://127.0.0.1:9"}}))
      << srv.stderr_text();
  auto token = ServerTest::admin_token();
  std::string responses;
  for (auto path : {"/health", "/health/ready", "/api/leads", "/metrics"})
    responses += http_call("GET", srv.base_url() + path, "", {ServerTest::bearer(token)}).body;
  responses += http_call("POST", srv.base_url() + "/api/leads/submit",
                         ServerTest::valid_lead().dump(), {ServerTest::bearer(token)})
                   .body;
  srv.stop();
  auto logs = srv.stderr_text() + srv.stdout_text();
  for (auto& secret : {std::string{ServerTest::secret}, token, db_password_marker,
                       std::string{"crm-key-never-logged-91"}}) {
    EXPECT_EQ(logs.find(secret), std::string::npos) << "leaked into logs: " << secret;
    EXPECT_EQ(responses.find(secret), std::string::npos) << "leaked into a response: " << secret;
  }
}

} // namespace pixelcraft::test
