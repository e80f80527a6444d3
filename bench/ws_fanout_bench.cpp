// Fan-out to many WebSocket monitors of one workflow (API.md §8; issue 11: 10,000 monitors,
// each event to each monitor with p99 <= 50 ms).
//
// Starts the server and an instant-but-streaming fake model, starts a three-step workflow and
// pauses it, opens `monitors` WebSockets on it (nonblocking, epoll, `threads` client threads),
// resumes it and records when each monitor receives each event. Only events after the highest
// `initial_state` seq count (every monitor was connected for them). Two figures per
// (monitor, event):
//   - spread: receive time minus the first monitor's receive time of the same event (the hub's
//     fan-out itself, measured on one clock);
//   - from stored: receive time minus the event's `timestamp` (its row's created_at: includes the
//     commit and the hub's hop; millisecond resolution).
// The client shares the two cores with the server: the figures are upper bounds.
// Usage: ws_fanout_bench [monitors=10000] [threads=2] [tokens_per_step=60]
// Needs PIXELCRAFT_TEST_PG_DSN (bench/run.sh does).
#include "tests/fakes/fake_llm.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/server_process.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench/bench_support.hpp"

using namespace pixelcraft::test;
using json = nlohmann::json;
using clock_type = std::chrono::system_clock;

namespace {

struct receipt {
  int64_t seq;
  int64_t at_us;     ///< when the client read it (system clock, µs)
  int64_t stored_us; ///< the event's `timestamp` (µs), 0 when absent
};

struct monitor {
  int fd = -1;
  bool upgraded = false;
  std::string buf;
  int64_t initial_seq = -1;
  bool done = false;   ///< got workflow_completed
  bool closed = false; ///< the server closed it after the upgrade
  std::vector<receipt> got;
};

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now().time_since_epoch())
      .count();
}

/// "2026-12-04T08:39:21.292Z" (or with more digits) as µs since the epoch; 0 if unreadable.
int64_t parse_ts(const std::string& s) {
  std::tm tm{};
  if (s.size() < 20 || !strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm))
    return 0;
  int64_t us = static_cast<int64_t>(timegm(&tm)) * 1000000;
  if (s[19] == '.') {
    int64_t frac = 0, scale = 100000;
    for (size_t i = 20; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && scale;
         ++i, scale /= 10)
      frac += (s[i] - '0') * scale;
    us += frac;
  }
  return us;
}

int connect_nonblocking(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Consumes complete frames from `m.buf`; text frames are recorded.
void parse_frames(monitor& m, int64_t at) {
  size_t off = 0;
  for (;;) {
    if (m.buf.size() - off < 2)
      break;
    auto b0 = static_cast<uint8_t>(m.buf[off]);
    uint64_t len = static_cast<uint8_t>(m.buf[off + 1]) & 0x7F;
    size_t head = 2;
    if (len == 126) {
      if (m.buf.size() - off < 4)
        break;
      len = (static_cast<uint64_t>(static_cast<uint8_t>(m.buf[off + 2])) << 8) |
            static_cast<uint8_t>(m.buf[off + 3]);
      head = 4;
    } else if (len == 127) {
      if (m.buf.size() - off < 10)
        break;
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | static_cast<uint8_t>(m.buf[off + 2 + static_cast<size_t>(i)]);
      head = 10;
    }
    if (m.buf.size() - off < head + len)
      break;
    if ((b0 & 0x0F) == 0x1) {
      // Our own frames, read cheaply (the client shares the cores with the server). The
      // server writes keys in order, `data` first: the last match of a key is the top-level one.
      std::string_view f{m.buf.data() + off + head, static_cast<size_t>(len)};
      auto field = [&f](std::string_view key) {
        auto at = f.rfind(key);
        return at == std::string_view::npos ? std::string_view{} : f.substr(at + key.size());
      };
      auto quoted = [](std::string_view v) {
        return v.empty() || v[0] != '"' ? std::string_view{} : v.substr(1, v.find('"', 1) - 1);
      };
      if (quoted(field("\"type\":")) == "workflow_update") {
        auto seq_text = field("\"seq\":");
        auto seq = seq_text.empty() ? -1 : std::strtoll(seq_text.data(), nullptr, 10);
        auto type = quoted(field("\"event_type\":"));
        if (type == "initial_state")
          m.initial_seq = seq;
        else
          m.got.push_back({seq, at, parse_ts(std::string{quoted(field("\"timestamp\":"))})});
        if (type == "workflow_completed" || type == "workflow_failed")
          m.done = true;
      }
    }
    off += head + len;
  }
  m.buf.erase(0, off);
}

double pct(std::vector<int64_t>& v, double p) {
  if (v.empty())
    return 0;
  auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
  int monitors = argc > 1 ? std::atoi(argv[1]) : 10000;
  int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  int tokens = argc > 3 ? std::atoi(argv[3]) : 60;
  if (admin_dsn().empty()) {
    std::fprintf(stderr, "set PIXELCRAFT_TEST_PG_DSN (bench/run.sh does)\n");
    return 2;
  }
  // Two descriptors per monitor on this machine (ours and the server's), plus room.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < static_cast<rlim_t>(monitors) + 1000) {
    std::fprintf(stderr, "RLIMIT_NOFILE %llu is too low for %d monitors\n",
                 static_cast<unsigned long long>(rl.rlim_cur), monitors);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  fake_llm model;
  fake_llm_script streaming;
  for (int i = 0; i < tokens; ++i)
    streaming.tokens.push_back(" w" + std::to_string(i));
  streaming.token_delay = std::chrono::milliseconds(50);
  model.script(streaming);
  server_process srv;
  auto limit = std::to_string(monitors + 1000);
  if (!srv.start({{"DATABASE_URL", create_database()},
                  {"SUPABASE_JWT_SECRET", "bench"},
                  {"OLLAMA_HOST", model.url()},
                  {"OLLAMA_MODEL", "llama3.2"},
                  {"MAX_CONNECTIONS", limit},
                  {"MAX_CONNECTIONS_PER_CLIENT", limit},
                  {"RATE_LIMIT_PER_MINUTE", "1000000"},
                  {"RATE_LIMIT_BURST", "1000000"},
                  {"LOG_LEVEL", "warn"}})) {
    std::fprintf(stderr, "server did not start:\n%s\n", srv.stderr_text().c_str());
    return 1;
  }
  std::string token;
  auto auth = pixelcraft::bench::user_auth("bench", &token);
  auto url = srv.base_url();
  auto body = pixelcraft::bench::three_step_workflow();
  auto started =
      json::parse(http_call("POST", url + "/api/agents/workflows/execute", body.dump(), auth).body,
                  nullptr, false);
  auto id = started.value("workflow_id", std::string{});
  auto paused = http_call("PATCH", url + "/api/agents/workflows/" + id + "/state",
                          R"({"action":"pause"})", auth);
  if (id.empty() || paused.status != 200) {
    std::fprintf(stderr, "could not start and pause a workflow: %ld %s\n", paused.status,
                 paused.body.c_str());
    return 1;
  }
  // Connect every monitor (spread over the client threads, each with its own epoll).
  std::string upgrade = "GET /api/ws/workflows/" + id +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
                        token + "\r\n\r\n";
  std::vector<monitor> ms(static_cast<size_t>(monitors));
  std::vector<int> epolls(static_cast<size_t>(threads));
  for (auto& e : epolls)
    e = epoll_create1(0);
  auto t_connect = std::chrono::steady_clock::now();
  std::atomic<int> upgraded{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> loops;
  for (int t = 0; t < threads; ++t)
    loops.emplace_back([&, t] {
      int ep = epolls[static_cast<size_t>(t)];
      // Connect this thread's share, a few hundred in flight at a time.
      std::vector<size_t> mine;
      for (size_t i = static_cast<size_t>(t); i < ms.size(); i += static_cast<size_t>(threads))
        mine.push_back(i);
      size_t next = 0;
      int pending = 0;
      epoll_event evs[512];
      while (!stop) {
        while (next < mine.size() && pending < 256) {
          auto& m = ms[mine[next]];
          m.fd = connect_nonblocking(srv.port());
          if (m.fd < 0) {
            ++failed;
            ++next;
            continue;
          }
          epoll_event ev{};
          ev.events = EPOLLOUT | EPOLLIN;
          ev.data.u64 = mine[next];
          epoll_ctl(ep, EPOLL_CTL_ADD, m.fd, &ev);
          ++pending;
          ++next;
        }
        int n = epoll_wait(ep, evs, 512, 50);
        auto at = now_us();
        for (int k = 0; k < n; ++k) {
          auto& m = ms[evs[k].data.u64];
          if (!m.upgraded && (evs[k].events & EPOLLOUT)) {
            if (::send(m.fd, upgrade.data(), upgrade.size(), MSG_NOSIGNAL) !=
                static_cast<ssize_t>(upgrade.size())) {
              ++failed;
              --pending;
              epoll_ctl(ep, EPOLL_CTL_DEL, m.fd, nullptr);
              continue;
            }
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = evs[k].data.u64;
            epoll_ctl(ep, EPOLL_CTL_MOD, m.fd, &ev);
            continue;
          }
          if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            continue;
          char tmp[65536];
          for (;;) {
            auto got = ::recv(m.fd, tmp, sizeof(tmp), 0);
            if (got <= 0) {
              if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, m.fd, nullptr);
                if (!m.upgraded) {
                  ++failed;
                  --pending;
                } else {
                  m.closed = true;
                }
              }
              break;
            }
            m.buf.append(tmp, static_cast<size_t>(got));
          }
          if (!m.upgraded) {
            auto end = m.buf.find("\r\n\r\n");
            if (end == std::string::npos)
              continue;
            bool ok = m.buf.compare(0, 12, "HTTP/1.1 101") == 0;
            m.buf.erase(0, end + 4);
            --pending;
            if (!ok) {
              ++failed;
              epoll_ctl(ep, EPOLL_CTL_DEL, m.fd, nullptr);
              continue;
            }
            m.upgraded = true;
            ++upgraded;
          }
          parse_frames(m, at);
        }
      }
    });
  auto wait_until = [&](auto pred, int seconds) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!pred() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return pred();
  };
  wait_until([&] { return upgraded + failed >= monitors; }, 300);
  auto connect_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_connect).count();
  // Every upgraded monitor has its initial_state before the workflow moves on.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  int64_t base = 0;
  int without_initial = 0;
  for (auto& m : ms)
    if (m.upgraded) {
      base = std::max(base, m.initial_seq);
      without_initial += m.initial_seq < 0;
    }
  auto resumed = http_call("PATCH", url + "/api/agents/workflows/" + id + "/state",
                           R"({"action":"resume"})", auth);
  if (resumed.status != 200)
    std::fprintf(stderr, "resume: %ld %s\n", resumed.status, resumed.body.c_str());
  auto all_done = [&] {
    for (auto& m : ms)
      if (m.upgraded && !m.done && !m.closed)
        return false;
    return true;
  };
  bool finished = wait_until(all_done, 180);
  stop = true;
  for (auto& t : loops)
    t.join();
  // Per event: the first receipt; per (monitor, event): the spread and the age.
  std::map<int64_t, int64_t> first;
  std::map<int64_t, int> receivers;
  for (auto& m : ms)
    for (auto& r : m.got)
      if (r.seq > base) {
        auto [it, fresh] = first.emplace(r.seq, r.at_us);
        if (!fresh)
          it->second = std::min(it->second, r.at_us);
        ++receivers[r.seq];
      }
  std::vector<int64_t> spread, age;
  for (auto& m : ms)
    for (auto& r : m.got)
      if (r.seq > base) {
        spread.push_back(r.at_us - first[r.seq]);
        if (r.stored_us > 0)
          age.push_back(r.at_us - r.stored_us);
      }
  // Per event: from its first receipt to its last (the whole fan-out of one event).
  std::map<int64_t, int64_t> last;
  for (auto& m : ms)
    for (auto& r : m.got)
      if (r.seq > base)
        last[r.seq] = std::max(last[r.seq], r.at_us);
  std::vector<int64_t> whole;
  for (auto& [seq, t] : last)
    whole.push_back(t - first[seq]);
  int closed = 0;
  for (auto& m : ms)
    closed += m.closed;
  int complete_events = 0;
  for (auto& [seq, n] : receivers)
    complete_events += n == upgraded.load();
  std::printf("monitors: %d upgraded, %d failed, connected in %.1f s (%.0f/s); %d without "
              "initial_state\n",
              upgraded.load(), failed.load(), connect_s, upgraded / connect_s, without_initial);
  std::printf("closed by the server before the end: %d\n", closed);
  std::printf("events after seq %lld: %zu, %d of them reached every monitor; workflow %s\n",
              static_cast<long long>(base), first.size(), complete_events,
              finished ? "completed on every monitor" : "NOT completed everywhere in 180 s");
  std::printf("fan-out spread (ms): p50 %.2f  p99 %.2f  max %.2f  (%zu receipts)\n",
              pct(spread, 0.5), pct(spread, 0.99), pct(spread, 1.0), spread.size());
  std::printf("one event to every monitor (ms): p50 %.2f  max %.2f  (%zu events)\n",
              pct(whole, 0.5), pct(whole, 1.0), whole.size());
  std::printf("age from stored timestamp (ms): p50 %.2f  p99 %.2f  max %.2f\n", pct(age, 0.5),
              pct(age, 0.99), pct(age, 1.0));
  for (auto& m : ms)
    if (m.fd >= 0)
      ::close(m.fd);
  return finished && complete_events == static_cast<int>(first.size()) ? 0 : 1;
}
