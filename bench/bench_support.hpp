#pragma once
/// What the workflow benchmarks share: starting many workflows over HTTP from client threads,
/// and waiting until they are completed.

#include "tests/support/http_client.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace pixelcraft::bench {

/// Starts `n` workflows (`POST /api/agents/workflows/execute` with `body(i)`) from 8 client
/// threads; returns when every request was answered.
inline void start_workflows(const std::string& url, const std::vector<std::string>& auth, int n,
                            const std::function<nlohmann::json(int)>& body) {
  std::vector<std::thread> clients;
  int per = (n + 7) / 8;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      for (int i = c * per; i < std::min(n, (c + 1) * per); ++i)
        test::http_call("POST", url + "/api/agents/workflows/execute", body(i).dump(), auth);
    });
  for (auto& t : clients)
    t.join();
}

/// Polls the list until `n` workflows are completed or `limit` passed; returns how many are.
inline int wait_completed(const std::string& url, const std::vector<std::string>& auth, int n,
                          std::chrono::steady_clock::duration limit = std::chrono::minutes(5)) {
  auto until = std::chrono::steady_clock::now() + limit;
  int done = 0;
  while (done < n && std::chrono::steady_clock::now() < until) {
    auto r = test::http_call("GET", url + "/api/agents/workflows?current_state=completed&limit=1",
                             "", auth);
    done = nlohmann::json::parse(r.body, nullptr, false).value("total", 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done;
}

} // namespace pixelcraft::bench
