// Operations routes and the conventions of API.md §1 that apply to every route.
#include "http/api.hpp"
#include "tests/integration/server_fixture.hpp"

namespace pixelcraft::test {

using OpsTest = ServerTest;

TEST_F(OpsTest, HealthIsLiveAndComplete) {
  auto r = get("/health");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  // The model server is unreachable on purpose: degraded, database healthy.
  EXPECT_EQ(j["status"], "degraded") << r.body;
  EXPECT_EQ(j["auth"], "configured");
  EXPECT_FALSE(j["version"].get<std::string>().empty());
  EXPECT_EQ(j["timestamp"].get<std::string>().back(), 'Z');
  auto& s = j["services"];
  EXPECT_EQ(s["database"]["status"], "healthy");
  EXPECT_TRUE(s["database"]["latency_ms"].is_number());
  EXPECT_EQ(s["ollama"]["status"], "unhealthy");
  EXPECT_TRUE(s["ollama"]["error"].is_string());
  for (auto k : {"hubspot", "sendgrid", "google_calendar"})
    EXPECT_EQ(s[k]["status"], "not_configured") << k;
  EXPECT_TRUE(j["node"]["id"].is_string());
  EXPECT_TRUE(j["node"]["peers"].is_array());
  EXPECT_EQ(r.header("content-type").rfind("application/json", 0), 0u);
}

TEST_F(OpsTest, LiveAndReady) {
  auto live = get("/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(json::parse(live.body), (json{{"status", "alive"}}));
  auto ready = get("/health/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(json::parse(ready.body), (json{{"status", "ready"}}));
}

TEST_F(OpsTest, OperationalRoutesIgnoreTokens) {
  for (auto path :
       {"/health", "/health/live", "/health/ready", "/metrics", "/openapi.json", "/docs"}) {
    auto r = get(path, {"Authorization: Bearer not.a.token"});
    EXPECT_EQ(r.status, 200) << path;
  }
}

TEST_F(OpsTest, MetricsArePrometheusText) {
  get("/health/live");
  post("/api/leads/submit", json::object());
  auto r = get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type").rfind("text/plain", 0), 0u);
  EXPECT_NE(r.body.find("pixelcraft_http_requests_total{method=\"GET\",route=\"/health/live\","
                        "status=\"200\"} 1"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("route=\"/api/leads/submit\",status=\"422\""), std::string::npos);
  EXPECT_NE(r.body.find("pixelcraft_http_request_duration_seconds_bucket{method=\"GET\","
                        "route=\"/health/live\",le=\"+Inf\"} 1"),
            std::string::npos);
}

TEST_F(OpsTest, OpenApiDescribesEveryServedRoute) {
  auto r = get("/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = json::parse(r.body);
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u);
  // tests/http/openapi_test.cpp proves this document equals the route table; here, that the
  // server serves exactly it, and a few contract paths as a sanity check.
  EXPECT_EQ(doc, json::parse(http::api::openapi()));
  for (auto path : {"/api/leads/submit", "/api/chat/stream", "/api/agents/{agent_type}",
                    "/api/agents/workflows/execute", "/api/agents/workflows/{id}/state"})
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
}

TEST_F(OpsTest, DocsPageIsServedLocally) {
  auto r = get("/docs");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type").rfind("text/html", 0), 0u);
  EXPECT_EQ(r.body.find("https://"), std::string::npos) << "no CDN at run time";
  if (r.body.find("/static/swagger-ui-bundle.js") == std::string::npos) {
    // Swagger UI not installed (scripts/web-deps.sh): the built-in reader.
    EXPECT_NE(r.body.find("/openapi.json"), std::string::npos);
    return;
  }
  // Swagger UI, every file from this server.
  for (auto file : {"/static/swagger-ui-bundle.js", "/static/swagger-ui.css", "/static/docs-ui.js",
                    "/static/docs-ui.css"}) {
    auto f = get(file);
    EXPECT_EQ(f.status, 200) << file;
    EXPECT_GT(f.body.size(), 100u) << file;
  }
  EXPECT_NE(get("/static/docs-ui.js").body.find("/openapi.json"), std::string::npos);
  EXPECT_EQ(get("/static/swagger-ui-bundle.js").header("content-type"),
            "application/javascript; charset=utf-8");
}

TEST_F(OpsTest, LandingAndConsolePagesRunOnlyTheirOwnScripts) {
  auto home = get("/");
  ASSERT_EQ(home.status, 200);
  EXPECT_EQ(home.header("content-type"), "text/html; charset=utf-8");
  for (auto link : {"/console", "/chat", "/docs", "/openapi.json", "/metrics"})
    EXPECT_NE(home.body.find(std::string{"href=\""} + link + "\""), std::string::npos) << link;
  auto console = get("/console");
  ASSERT_EQ(console.status, 200);
  for (auto* page : {&home, &console}) {
    auto csp = page->header("content-security-policy");
    EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
    EXPECT_EQ(page->body.find("https://"), std::string::npos) << "no CDN at run time";
  }
  auto js = get("/static/console.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header("content-type"), "application/javascript; charset=utf-8");
  EXPECT_EQ(js.header("cache-control"), "public, max-age=300");
  // Only the shipped files: no path, no other extension, nothing unknown.
  for (auto bad :
       {"/static/..%2Fopenapi.json", "/static/openapi.json", "/static/nope.js",
        "/static/.hidden.js", "/static/console.js%00.png", "/static/a%2Fb.js", "/static/docs.html"})
    EXPECT_EQ(get(bad).status, 404) << bad;
}

TEST_F(OpsTest, EveryGetRouteAnswersHeadWithoutABody) {
  for (auto path : {"/", "/console", "/docs", "/chat", "/health", "/health/live", "/openapi.json",
                    "/static/console.js", "/api/agents", "/metrics"}) {
    auto g = get(path);
    auto h = call("HEAD", path);
    EXPECT_EQ(h.status, g.status) << path;
    EXPECT_TRUE(h.body.empty()) << path;
    EXPECT_EQ(h.header("content-type"), g.header("content-type")) << path;
    if (std::string{path} != "/health" && std::string{path} != "/metrics") { // both change
      EXPECT_EQ(h.header("content-length"), std::to_string(g.body.size())) << path;
    }
  }
  // The same checks as GET: a route that needs a token still needs it.
  EXPECT_EQ(call("HEAD", "/api/leads").status, 401);
  EXPECT_EQ(call("HEAD", "/api/nowhere").status, 404);
  auto post_only = call("HEAD", "/api/leads/submit");
  EXPECT_EQ(post_only.status, 405);
  EXPECT_EQ(post_only.header("allow"), "POST");
}

TEST_F(OpsTest, ChatPageIsServedLocally) {
  auto r = get("/chat");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type").rfind("text/html", 0), 0u);
  EXPECT_NE(r.body.find("/api/chat/stream"), std::string::npos);
  EXPECT_EQ(r.body.find("https://"), std::string::npos) << "no CDN at run time";
}

TEST_F(OpsTest, CorrelationIdIsEchoedOrReplaced) {
  auto echoed = get("/health/live", {"X-Correlation-ID: abc.DEF_123-x"});
  EXPECT_EQ(echoed.header("x-correlation-id"), "abc.DEF_123-x");
  auto bad = get("/health/live", {"X-Correlation-ID: has spaces!"});
  EXPECT_FALSE(bad.header("x-correlation-id").empty());
  EXPECT_NE(bad.header("x-correlation-id"), "has spaces!");
  auto too_long = get("/health/live", {"X-Correlation-ID: " + std::string(129, 'a')});
  EXPECT_NE(too_long.header("x-correlation-id"), std::string(129, 'a'));
  auto fresh1 = get("/nope");
  auto fresh2 = get("/nope");
  EXPECT_NE(fresh1.header("x-correlation-id"), fresh2.header("x-correlation-id"));
  // It appears in the server's log line for that request.
  get("/health/live", {"X-Correlation-ID: find-me-in-the-log-42"});
  EXPECT_NE(srv.stderr_text().find("\"correlation_id\":\"find-me-in-the-log-42\""),
            std::string::npos);
}

TEST_F(OpsTest, UnknownRouteIs404AndWrongMethodIs405) {
  auto r = get("/api/does-not-exist");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(json::parse(r.body)["detail"].is_string());
  EXPECT_FALSE(r.header("x-correlation-id").empty());
  auto m = call("DELETE", "/api/leads/submit");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.header("allow"), "POST");
  EXPECT_TRUE(json::parse(m.body)["detail"].is_string());
  auto m2 = call("PUT", "/api/leads/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(m2.status, 405);
  EXPECT_EQ(m2.header("allow"), "GET, HEAD, PATCH");
}

TEST_F(OpsTest, PreflightAnswersWithAllow) {
  auto r = call("OPTIONS", "/api/leads/submit", "", {"Origin: https://site.example"});
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(r.header("allow").find("POST"), std::string::npos);
  EXPECT_EQ(call("OPTIONS", "/api/none").status, 404);
}

TEST_F(OpsTest, BodyOverTheLimitIs413) {
  for (size_t size : {1100u * 1024, 10u * 1024 * 1024}) {
    std::string big(size, 'x');
    auto r = call("POST", "/api/leads/submit", "{\"pad\":\"" + big + "\"}");
    EXPECT_EQ(r.status, 413) << size << " " << r.error;
    EXPECT_TRUE(json::parse(r.body, nullptr, false)["detail"].is_string());
  }
}

TEST_F(OpsTest, HeadersOverTheLimitAre431AndLongUrisAre414) {
  auto r = get("/health/live", {"X-Big: " + std::string(20000, 'h')});
  EXPECT_EQ(r.status, 431) << r.error;
  auto u = get("/health/live?q=" + std::string(9000, 'u'));
  EXPECT_EQ(u.status, 414) << u.error;
}

TEST_F(OpsTest, SigtermStopsGracefully) {
  EXPECT_EQ(srv.stop(), 0);
  started = false;
}

TEST(ConfigStartupTest, BadValueStopsStartupNamingTheVariable) {
  std::string out;
  auto rc = server_process::run("serve", {{"APP_PORT", "70000"}}, &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("APP_PORT"), std::string::npos) << out;
  rc = server_process::run("serve", {{"OLLAMA_HOST", "not a url"}}, &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("OLLAMA_HOST"), std::string::npos) << out;
}

TEST(ConfigStartupTest, VersionAndUnknownCommand) {
  std::string out;
  EXPECT_EQ(server_process::run("version", {}, &out), 0);
  EXPECT_EQ(out.rfind("pixelcraft ", 0), 0u) << out;
  EXPECT_NE(server_process::run("frobnicate", {}, &out), 0);
}

TEST(MigrateCommandTest, AppliesThenReportsNothingPending) {
  PIXELCRAFT_REQUIRE_PG();
  auto dsn = create_database();
  std::string out;
  ASSERT_EQ(server_process::run("migrate", {{"DATABASE_URL", dsn}}, &out), 0) << out;
  EXPECT_NE(out.find("migration(s) applied"), std::string::npos) << out;
  ASSERT_EQ(server_process::run("migrate", {{"DATABASE_URL", dsn}}, &out), 0) << out;
  EXPECT_NE(out.find("(0 migration(s) applied)"), std::string::npos) << out;
}

TEST(EphemeralAuthTest, NoSecretPrintsAWorkingAdminToken) {
  PIXELCRAFT_REQUIRE_PG();
  server_process srv;
  ASSERT_TRUE(
      srv.start({{"DATABASE_URL", create_database()}, {"OLLAMA_HOST", "http://127.0.0.1:9"}}))
      << srv.stderr_text();
  auto health = http_call("GET", srv.base_url() + "/health");
  EXPECT_EQ(json::parse(health.body)["auth"], "ephemeral");
  auto out = srv.stdout_text();
  auto pos = out.find("Admin token (valid 24 h): ");
  ASSERT_NE(pos, std::string::npos) << out;
  auto start = pos + std::string{"Admin token (valid 24 h): "}.size();
  auto token = out.substr(start, out.find('\n', start) - start);
  auto r = http_call("GET", srv.base_url() + "/api/leads", "", {"Authorization: Bearer " + token});
  EXPECT_EQ(r.status, 200) << r.body;
  auto forged = http_call("GET", srv.base_url() + "/api/leads", "",
                          {"Authorization: Bearer " + ServerTest::admin_token()});
  EXPECT_EQ(forged.status, 401) << "a token signed with another secret must fail";
  EXPECT_EQ(srv.stderr_text().find(token), std::string::npos) << "token leaked into logs";
  srv.stop();
}

} // namespace pixelcraft::test
