#pragma once
/// What the workflow benchmarks share: starting many workflows over HTTP from client threads,
/// and waiting until they are completed.

#include "http/auth.hpp"
#include "tests/support/http_client.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace pixelcraft::bench {

/// The `Authorization` header of a user for the next hour, signed with `secret` (the server's
/// SUPABASE_JWT_SECRET), and the token itself.
inline std::vector<std::string> user_auth(const std::string& secret, std::string* token = nullptr) {
  auto now = static_cast<long long>(std::time(nullptr));
  auto t = http::jwt_sign_hs256(
      nlohmann::json{{"sub", "bench"}, {"aud", "authenticated"}, {"exp", now + 3600}}.dump(),
      secret);
  if (token)
    *token = t;
  return {"Authorization: Bearer " + t};
}

/// The three-step sequential workflow the workflow benchmarks run.
inline nlohmann::json three_step_workflow() {
  return {{"workflow_type", "sequential"},
          {"participating_agents", {"brand_design", "content_creation", "analytics_consulting"}},
          {"input_data", {{"message", "Go"}}}};
}

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
