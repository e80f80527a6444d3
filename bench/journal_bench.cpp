// What the step journal costs (issue 10): workflows with tool calls per second, this build (each
// model call and tool call journaled before and after it runs) against a baseline binary built
// from the commit before the journal, in alternating rounds of one run.
// Usage: journal_bench BASELINE_BINARY [workflows=200] [rounds=3]. Needs PIXELCRAFT_TEST_PG_DSN.
//
// Each workflow is three sequential steps against an instant fake model and the fake vendors:
// `digital_marketing` e-mails the bound lead and creates its CRM contact and deal (two tool
// calls, two model calls), then `brand_design` and `content_creation` answer (one model call
// each): 4 model calls and 2 tool calls per workflow, all journaled in this build.
#include "tests/fakes/fake_llm.hpp"
#include "tests/fakes/fake_vendors.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/server_process.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"

using namespace pixelcraft::test;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

/// One timed batch against `binary` (empty: this build's): workflows per second, or 0 when
/// the server did not start or not every workflow completed within five minutes.
double round_of(const std::string& binary, int workflows, fake_llm& model, fake_vendors& vendors) {
  server_process srv;
  if (!binary.empty())
    srv.set_binary(binary);
  auto env = vendor_env(vendors);
  env.insert({{"DATABASE_URL", create_database()},
              {"SUPABASE_JWT_SECRET", "bench"},
              {"OLLAMA_HOST", model.url()},
              {"OLLAMA_MODEL", "llama3.2"},
              {"LLM_MAX_CONCURRENCY", "64"},
              {"DB_POOL_SIZE", "8"},
              {"LOG_LEVEL", "warn"}});
  if (!srv.start(env)) {
    std::fprintf(stderr, "server did not start:\n%s\n", srv.stderr_text().c_str());
    return 0;
  }
  auto auth = pixelcraft::bench::user_auth("bench");
  auto url = srv.base_url();
  auto t0 = clock_type::now();
  pixelcraft::bench::start_workflows(url, auth, workflows, [](int i) {
    auto lead = "lead-" + std::to_string(i);
    return json{{"workflow_type", "sequential"},
                {"participating_agents", {"digital_marketing", "brand_design", "content_creation"}},
                {"input_data",
                 {{"message", "Send " + lead + " our plan."},
                  {"lead_data",
                   {{"name", "Lead " + std::to_string(i)},
                    {"email", lead + "@example.com"},
                    {"budget_range", "1000-5000"}}}}}};
  });
  int done = pixelcraft::bench::wait_completed(url, auth, workflows);
  auto seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  srv.stop();
  return done == workflows ? workflows / seconds : 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || admin_dsn().empty()) {
    std::fprintf(stderr, "usage: journal_bench BASELINE_BINARY [workflows] [rounds]\n"
                         "(with PIXELCRAFT_TEST_PG_DSN set; bench/run.sh journal does both)\n");
    return 2;
  }
  std::string baseline = argv[1];
  int workflows = argc > 2 ? std::atoi(argv[2]) : 200;
  int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  fake_llm model;
  fake_vendors vendors{vendor_keys::crm, vendor_keys::email, vendor_keys::calendar,
                       vendor_keys::calendar_id};
  // The marketing step's first answer asks for the two calls; every other answer is instant
  // text.
  model.respond([](const json& req) {
    auto text = req.dump();
    auto at = text.find("lead-");
    auto end = at == std::string::npos ? at : text.find("@example.com", at);
    const auto& messages = req["messages"];
    bool answered = !messages.empty() && messages.back().value("role", "") == "tool";
    if (end != std::string::npos && !answered &&
        text.find("send_marketing_proposal") != std::string::npos) {
      auto email = text.substr(at, end - at) + "@example.com";
      return calls(json::array({tool_call("send_marketing_proposal",
                                          {{"to_email", email}, {"proposal_summary", "Our plan."}}),
                                tool_call("create_marketing_lead", {{"email", email},
                                                                    {"name", "Lead Bench"},
                                                                    {"monthly_budget", 1000},
                                                                    {"summary", "Bench"}})}));
    }
    return says("ok");
  });
  std::printf("| round | baseline (no journal) workflows/s | journal on workflows/s | "
              "journal / baseline |\n|---|---|---|---|\n");
  double sum_base = 0, sum_journal = 0;
  for (int r = 1; r <= rounds; ++r) {
    // Alternate which goes first: the machine's noise drifts.
    double base = 0, journal = 0;
    if (r % 2 == 1) {
      base = round_of(baseline, workflows, model, vendors);
      journal = round_of("", workflows, model, vendors);
    } else {
      journal = round_of("", workflows, model, vendors);
      base = round_of(baseline, workflows, model, vendors);
    }
    sum_base += base;
    sum_journal += journal;
    std::printf("| %d | %.1f | %.1f | %.2f |\n", r, base, journal, base > 0 ? journal / base : 0);
    std::fflush(stdout);
  }
  std::printf("| all | %.1f | %.1f | **%.2f** |\n", sum_base / rounds, sum_journal / rounds,
              sum_base > 0 ? sum_journal / sum_base : 0);
  std::printf("(model requests: %d; e-mails at the fake: %zu)\n", model.chat_calls(),
              vendors.requests("POST", "/v3/mail/send").size());
  return sum_base > 0 && sum_journal > 0 ? 0 : 1;
}
