// Requests per second of cheap GET routes on one server, in one run: `GET /api/agents` (the
// catalogue with each agent's status) against `GET /health/live` (the floor: no actor asked).
// Keep-alive connections from client threads, phases alternated so that noise hits both paths.
// Usage: http_rps_bench [connections=8] [seconds_per_phase=3] [rounds=3] [baseline_binary].
// With a baseline binary (an older build of `pixelcraft`), both servers run at once and their
// phases alternate, so before and after come from one run. Needs PIXELCRAFT_TEST_PG_DSN
// (bench/run.sh sets it).
#include "tests/fakes/fake_llm.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/server_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace pixelcraft::test;
using clock_type = std::chrono::steady_clock;

namespace {

/// One keep-alive connection; `get` returns the status, or 0 when the connection failed.
class conn {
public:
  explicit conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~conn() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;

  int get(const std::string& path) {
    if (fd_ < 0)
      return 0;
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return 0;
    // Head, then Content-Length bytes of body (every route here answers with a length).
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill())
        return 0;
    auto head = buf_.substr(0, head_end);
    auto status = std::atoi(head.c_str() + 9);
    size_t length = 0;
    for (auto key : {"Content-Length: ", "content-length: "})
      if (auto at = head.find(key); at != std::string::npos)
        length = std::strtoul(head.c_str() + at + std::char_traits<char>::length(key), nullptr, 10);
    while (buf_.size() < head_end + 4 + length)
      if (!fill())
        return 0;
    buf_.erase(0, head_end + 4 + length);
    return status;
  }

private:
  bool fill() {
    char tmp[65536];
    auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0)
      return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buf_;
};

struct phase_result {
  double rps = 0;
  long long failed = 0;
};

phase_result phase(int port, const std::string& path, int connections, double seconds) {
  std::atomic<long long> ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i)
    threads.emplace_back([&] {
      conn c(port);
      while (!stop.load(std::memory_order_relaxed))
        (c.get(path) == 200 ? ok : failed)++;
    });
  auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  double dt = std::chrono::duration<double>(clock_type::now() - t0).count();
  return {static_cast<double>(ok.load()) / dt, failed.load()};
}

} // namespace

int main(int argc, char** argv) {
  int connections = argc > 1 ? std::atoi(argv[1]) : 8;
  double seconds = argc > 2 ? std::atof(argv[2]) : 3;
  int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  std::string baseline = argc > 4 ? argv[4] : "";
  if (admin_dsn().empty()) {
    std::fprintf(stderr, "set PIXELCRAFT_TEST_PG_DSN (bench/run.sh does)\n");
    return 2;
  }
  fake_llm model; // answers /api/tags: the agents' model is listed, so they are `active`
  struct target {
    std::string name;
    server_process srv;
    double live = 0, agents = 0;
    long long failed = 0;
  };
  std::vector<std::unique_ptr<target>> targets;
  for (const auto& bin :
       baseline.empty() ? std::vector<std::string>{""} : std::vector<std::string>{baseline, ""}) {
    auto t = std::make_unique<target>();
    t->name = bin.empty() ? "this build" : "baseline";
    if (!bin.empty())
      t->srv.set_binary(bin);
    if (!t->srv.start({{"DATABASE_URL", create_database()},
                       {"SUPABASE_JWT_SECRET", "bench"},
                       {"OLLAMA_HOST", model.url()},
                       {"OLLAMA_MODEL", "llama3.2"},
                       {"RATE_LIMIT_PER_MINUTE", "1000000"},
                       {"RATE_LIMIT_BURST", "1000000"},
                       {"LOG_LEVEL", "warn"}})) {
      std::fprintf(stderr, "server did not start:\n%s\n", t->srv.stderr_text().c_str());
      return 1;
    }
    phase(t->srv.port(), "/api/agents", connections, 1); // warm-up (first health check)
    targets.push_back(std::move(t));
  }
  std::printf("connections=%d, %.1f s per phase, %d rounds\n", connections, seconds, rounds);
  for (int r = 0; r < rounds; ++r) {
    for (auto& t : targets) {
      auto a = phase(t->srv.port(), "/health/live", connections, seconds);
      auto b = phase(t->srv.port(), "/api/agents", connections, seconds);
      std::printf("round %d, %s: /health/live %.0f rps, /api/agents %.0f rps (ratio %.2f)\n", r + 1,
                  t->name.c_str(), a.rps, b.rps, b.rps / a.rps);
      t->live += a.rps;
      t->agents += b.rps;
      t->failed += a.failed + b.failed;
    }
  }
  for (auto& t : targets) {
    std::printf(
        "mean, %s: /health/live %.0f rps, /api/agents %.0f rps, ratio %.2f, non-200: %lld\n",
        t->name.c_str(), t->live / rounds, t->agents / rounds, t->agents / t->live, t->failed);
    t->srv.stop();
  }
  return 0;
}
