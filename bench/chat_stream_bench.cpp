// 1,000 concurrent streaming chats against the fake model: time to the first chunk through the
// server versus straight from the fake model, measured in one run, plus the server's peak RSS.
// Usage: chat_stream_bench [streams=1000] [tokens=10] [token_delay_ms=20]
// Needs PIXELCRAFT_TEST_PG_DSN (bench/run.sh starts a throwaway cluster).
#include "tests/fakes/fake_llm.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/server_process.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace pixelcraft::test;
using clock_type = std::chrono::steady_clock;

namespace {

struct transfer {
  std::string body;
  std::string marker; ///< the first occurrence of this in the body is "first chunk"
  clock_type::time_point started;
  double first_ms = -1;
};

size_t on_data(char* p, size_t size, size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  t->body.append(p, size * n);
  if (t->first_ms < 0 && t->body.find(t->marker) != std::string::npos)
    t->first_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t->started).count();
  return size * n;
}

/// Runs `n` concurrent POSTs of `body` to `url` and returns each one's time to `marker`.
std::vector<double> run(const std::string& url, const std::string& body, const std::string& marker,
                        int n, double& wall_ms, int& failed) {
  CURLM* m = curl_multi_init();
  std::vector<transfer> ts(static_cast<size_t>(n));
  std::vector<CURL*> handles;
  curl_slist* hs = curl_slist_append(nullptr, "Content-Type: application/json");
  auto start = clock_type::now();
  for (auto& t : ts) {
    t.marker = marker;
    t.started = clock_type::now();
    CURL* h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_multi_add_handle(m, h);
    handles.push_back(h);
  }
  int running = 1;
  while (running > 0) {
    curl_multi_perform(m, &running);
    curl_multi_poll(m, nullptr, 0, 50, nullptr);
  }
  wall_ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
  failed = 0;
  std::vector<double> out;
  for (size_t i = 0; i < ts.size(); ++i) {
    long status = 0;
    curl_easy_getinfo(handles[i], CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || ts[i].first_ms < 0)
      ++failed;
    else
      out.push_back(ts[i].first_ms);
    curl_multi_remove_handle(m, handles[i]);
    curl_easy_cleanup(handles[i]);
  }
  curl_slist_free_all(hs);
  curl_multi_cleanup(m);
  std::sort(out.begin(), out.end());
  return out;
}

double pct(const std::vector<double>& xs, double p) {
  if (xs.empty())
    return -1;
  auto i = static_cast<size_t>(p * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

long peak_rss_kb(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  int streams = argc > 1 ? std::atoi(argv[1]) : 1000;
  int tokens = argc > 2 ? std::atoi(argv[2]) : 10;
  int delay = argc > 3 ? std::atoi(argv[3]) : 20;
  if (admin_dsn().empty()) {
    std::fprintf(stderr, "set PIXELCRAFT_TEST_PG_DSN (bench/run.sh does)\n");
    return 2;
  }
  rlimit lim{65536, 65536};
  setrlimit(RLIMIT_NOFILE, &lim); // ~4 sockets per stream across client, server and fake
  curl_global_init(CURL_GLOBAL_DEFAULT);
  fake_llm model;
  fake_llm_script s;
  s.tokens.assign(static_cast<size_t>(tokens), " tok");
  s.token_delay = std::chrono::milliseconds(delay);
  model.script(s);
  server_process srv;
  auto n = std::to_string(streams);
  if (!srv.start({{"DATABASE_URL", create_database()},
                  {"SUPABASE_JWT_SECRET", "bench-secret"},
                  {"OLLAMA_HOST", model.url()},
                  {"OLLAMA_MODEL", "llama3.2"},
                  {"LLM_MAX_CONCURRENCY", n},
                  {"LLM_QUEUE_LIMIT", n},
                  {"RATE_LIMIT_BURST", "1000000"},
                  {"RATE_LIMIT_PER_MINUTE", "1000000"},
                  // Every stream comes from 127.0.0.1: the per-client cap (256 by default)
                  // would refuse most of them.
                  {"MAX_CONNECTIONS", std::to_string(std::stoi(n) + 1000)},
                  {"MAX_CONNECTIONS_PER_CLIENT", std::to_string(std::stoi(n) + 1000)},
                  {"DB_POOL_SIZE", "8"},
                  {"LOG_LEVEL", "warn"}})) {
    std::fprintf(stderr, "server did not start:\n%s\n", srv.stderr_text().c_str());
    return 1;
  }
  auto rss_idle = peak_rss_kb(srv.pid());
  nlohmann::json direct_req = {{"model", "llama3.2"},
                               {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                               {"stream", true}};
  double direct_wall = 0, server_wall = 0;
  int direct_failed = 0, server_failed = 0;
  // Warm-up (connections, first database use), then the measured runs back to back.
  run(srv.base_url() + "/api/chat/stream", R"({"message":"warm up"})", "event: chunk", 20,
      server_wall, server_failed);
  auto direct = run(model.url() + "/api/chat", direct_req.dump(), "\"content\"", streams,
                    direct_wall, direct_failed);
  auto through = run(srv.base_url() + "/api/chat/stream", R"({"message":"hello"})", "event: chunk",
                     streams, server_wall, server_failed);
  auto rss_peak = peak_rss_kb(srv.pid());
  std::printf("streams=%d tokens=%d token_delay_ms=%d\n", streams, tokens, delay);
  std::printf("| path | p50 first chunk ms | p99 first chunk ms | wall ms | failed |\n");
  std::printf("|---|---|---|---|---|\n");
  std::printf("| fake model directly | %.1f | %.1f | %.0f | %d |\n", pct(direct, 0.5),
              pct(direct, 0.99), direct_wall, direct_failed);
  std::printf("| through pixelcraft | %.1f | %.1f | %.0f | %d |\n", pct(through, 0.5),
              pct(through, 0.99), server_wall, server_failed);
  std::printf("added by the server: p50 %.1f ms, p99 %.1f ms\n",
              pct(through, 0.5) - pct(direct, 0.5), pct(through, 0.99) - pct(direct, 0.99));
  std::printf("server RSS: idle %ld KiB, peak %ld KiB\n", rss_idle, rss_peak);
  srv.stop();
  return direct_failed + server_failed == 0 ? 0 : 1;
}
