// Workflow throughput: N three-step sequential workflows started at once against an instant
// fake model, timed until all are completed; then agent messages posted into a paused workflow.
// Usage: workflow_bench [workflows=200] [messages=500]. Needs PIXELCRAFT_TEST_PG_DSN.
#include "tests/fakes/fake_llm.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/server_process.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"

using namespace pixelcraft::test;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int workflows = argc > 1 ? std::atoi(argv[1]) : 200;
  int messages = argc > 2 ? std::atoi(argv[2]) : 500;
  if (admin_dsn().empty()) {
    std::fprintf(stderr, "set PIXELCRAFT_TEST_PG_DSN (bench/run.sh does)\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  fake_llm model;
  fake_llm_script instant;
  instant.tokens = {"ok"};
  model.script(instant);
  server_process srv;
  if (!srv.start({{"DATABASE_URL", create_database()},
                  {"SUPABASE_JWT_SECRET", "bench"},
                  {"OLLAMA_HOST", model.url()},
                  {"OLLAMA_MODEL", "llama3.2"},
                  {"LLM_MAX_CONCURRENCY", "64"},
                  {"DB_POOL_SIZE", "8"},
                  {"LOG_LEVEL", "warn"}})) {
    std::fprintf(stderr, "server did not start:\n%s\n", srv.stderr_text().c_str());
    return 1;
  }
  auto auth = pixelcraft::bench::user_auth("bench");
  auto url = srv.base_url();
  auto body = pixelcraft::bench::three_step_workflow();
  // Start them from a few client threads, then wait until all are completed.
  auto t0 = clock_type::now();
  pixelcraft::bench::start_workflows(url, auth, workflows, [&body](int) { return body; });
  int done = pixelcraft::bench::wait_completed(url, auth, workflows);
  auto wf_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  // Messages into one paused workflow (each mirrored into agent_messages before the 201).
  model.script([] {
    fake_llm_script slow;
    slow.tokens = {"x"};
    slow.token_delay = std::chrono::milliseconds(2000);
    return slow;
  }());
  auto started =
      json::parse(http_call("POST", url + "/api/agents/workflows/execute", body.dump(), auth).body);
  auto id = started["workflow_id"].get<std::string>();
  http_call("PATCH", url + "/api/agents/workflows/" + id + "/state", R"({"action":"pause"})", auth);
  json msg = {{"from_agent", "brand_design"},
              {"to_agent", "content_creation"},
              {"message_type", "notification"},
              {"content", {{"n", 1}}}};
  auto t1 = clock_type::now();
  int ok = 0;
  std::vector<std::thread> senders;
  std::atomic<int> sent{0};
  for (int c = 0; c < 4; ++c)
    senders.emplace_back([&] {
      while (sent++ < messages)
        if (http_call("POST", url + "/api/agents/workflows/" + id + "/messages", msg.dump(), auth)
                .status == 201)
          ++ok;
    });
  for (auto& t : senders)
    t.join();
  auto msg_s = std::chrono::duration<double>(clock_type::now() - t1).count();
  std::printf("| what | count | seconds | per second |\n|---|---|---|---|\n");
  std::printf("| 3-step sequential workflows (instant model) | %d/%d completed | %.2f | %.1f |\n",
              done, workflows, wf_s, done / wf_s);
  std::printf("| agent messages posted over HTTP (mirrored) | %d | %.2f | %.1f |\n", ok, msg_s,
              ok / msg_s);
  srv.stop();
  return done == workflows ? 0 : 1;
}
