// Idle conversations' agent actors on one node: what each costs in memory, and that the idle
// ones are passivated (issue 11 "scale").
//
// In process: the real agent registry and agent actors; the database and the model are
// in-process stand-ins (every write accepted, an instant answer), so each conversation gets one
// real turn and its actor then holds what an idle conversation's actor holds: the turn's
// history and its passivation timer. Phase 1 keeps them (AGENT_IDLE_S of an hour) and reports
// the resident memory per conversation; phase 2 lets them passivate (AGENT_IDLE_S=2) and
// reports what is left once none is alive (the passivated form is the database rows only).
// Usage: idle_agents_bench [conversations=1000000] [window=2000] [kept|passivating|both=both]
// (one phase per process gives each a clean baseline: memory freed by the allocator is not
// always given back to the system).
#include "actors/agents/agent_catalog.hpp"
#include "actors/agents/agent_registry.hpp"
#include "actors/errc.hpp"
#include "actors/llm_actor.hpp"
#include "tests/support/actor_test.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <malloc.h>
#include <memory>
#include <string>
#include <thread>

using namespace pixelcraft;
using clock_type = std::chrono::steady_clock;

namespace {

/// Resident memory of this process, in bytes (VmRSS).
long long rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atoll(line.c_str() + 6) * 1024;
  return -1;
}

llm_actor::behavior_type instant_model() {
  model_reply answer;
  answer.content = "Hello! How can PixelCraft help?";
  answer.model = "bench";
  answer.provider = "ollama";
  answer.tokens_in = 12;
  answer.tokens_out = 8;
  answer.latency_ms = 0.1;
  answer.ttft_ms = 0.1;
  return {
      [answer](llm_chat_atom, const std::string&, const caf::actor&) { return answer; },
      [](llm_stats_atom) { return std::string{R"({"models":[]})"}; },
      [](load_atom) { return int32_t{0}; },
  };
}

struct driver_state {
  int next = 0, done = 0, failed = 0;
  std::string first_error;
  static inline const char* name = "bench.driver";
};

/// The last turn is answered: report, break the sender's self-reference, end.
void finish(caf::stateful_actor<driver_state>* self, const caf::actor& report,
            const std::shared_ptr<std::function<void()>>& send_one) {
  self->send(report, self->state.failed, self->state.first_error);
  *send_one = nullptr;
  self->quit();
}

/// Keeps `window` turns in flight until `n` are answered, then tells `report`.
caf::behavior driver(caf::stateful_actor<driver_state>* self, agent_registry_actor registry, int n,
                     int window, caf::actor report) {
  auto send_one = std::make_shared<std::function<void()>>();
  *send_one = [self, registry, n, report, send_one] {
    auto& st = self->state;
    if (st.next >= n)
      return;
    agent_turn turn;
    turn.agent_type = "chat";
    turn.conversation_id = "conv-" + std::to_string(st.next++);
    turn.message = "Hi, what do you do?";
    turn.budget_ms = 60000;
    self->request(registry, std::chrono::seconds(120), chat_atom_v, std::move(turn), caf::actor{})
        .then(
            [self, n, report, send_one](const agent_reply&) {
              if (++self->state.done == n)
                return finish(self, report, send_one);
              (*send_one)();
            },
            [self, n, report, send_one](caf::error& err) {
              auto& st = self->state;
              if (st.failed++ == 0)
                st.first_error = caf::to_string(err);
              if (++st.done == n)
                return finish(self, report, send_one);
              (*send_one)();
            });
  };
  for (int i = 0; i < window; ++i)
    (*send_one)();
  return {[](int) {}};
}

int32_t live_agents(caf::scoped_actor& self, const agent_registry_actor& registry) {
  int32_t n = -1;
  self->request(registry, std::chrono::seconds(60), load_atom_v)
      .receive([&](int32_t x) { n = x; }, [](caf::error&) {});
  return n;
}

/// One phase: `n` conversations with one turn each. Returns false on failed turns.
bool phase(caf::actor_system& sys, int n, int window, unsigned idle_s, const char* label) {
  caf::scoped_actor self{sys};
  std::string error;
  agent_registry_options opts;
  opts.catalog = agent_catalog::load(agent_catalog::builtin_json(), "bench", error);
  opts.db = caf::actor_cast<db_actor>(
      sys.spawn([](caf::event_based_actor*) { return test::db_standin_behavior(); }));
  opts.llm = sys.spawn(instant_model);
  opts.settings.agent_idle_s = idle_s;
  auto registry = spawn_agent_registry(sys, opts);
  malloc_trim(0);
  auto before = rss_bytes();
  auto t0 = clock_type::now();
  sys.spawn(driver, registry, n, window, caf::actor{self});
  int failed = 0;
  std::string first_error;
  self->receive([&](int f, std::string& e) {
    failed = f;
    first_error = std::move(e);
  });
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  auto alive = live_agents(self, registry);
  malloc_trim(0);
  auto after = rss_bytes();
  std::printf("%s: %d conversations, one turn each, in %.1f s (%.0f turns/s); %d failed%s%s\n",
              label, n, secs, n / secs, failed, failed ? ": " : "", first_error.c_str());
  std::printf("%s: agent actors alive %d; RSS %.1f MiB -> %.1f MiB: %.0f bytes per conversation\n",
              label, alive, before / 1048576.0, after / 1048576.0,
              static_cast<double>(after - before) / n);
  if (idle_s < 60) {
    auto t1 = clock_type::now();
    while (live_agents(self, registry) > 0 && clock_type::now() - t1 < std::chrono::seconds(120))
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    malloc_trim(0);
    auto passivated = rss_bytes();
    std::printf("%s: passivated after %.1f s (agent actors alive %d); RSS %.1f MiB: %.0f bytes "
                "per conversation left\n",
                label, std::chrono::duration<double>(clock_type::now() - t0).count(),
                live_agents(self, registry), passivated / 1048576.0,
                static_cast<double>(passivated - before) / n);
  }
  // The next phase measures from a clean slate: the registry and the agents it links are gone.
  auto stop_at = clock_type::now();
  self->send_exit(registry, caf::exit_reason::user_shutdown);
  self->wait_for(registry);
  std::printf("%s: the registry ended its agents and itself in %.2f s\n", label,
              std::chrono::duration<double>(clock_type::now() - stop_at).count());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  self->send_exit(opts.db, caf::exit_reason::user_shutdown);
  self->send_exit(opts.llm, caf::exit_reason::user_shutdown);
  return failed == 0 && (idle_s < 60 || alive == n);
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
  int window = argc > 2 ? std::atoi(argv[2]) : 2000;
  std::string which = argc > 3 ? argv[3] : "both";
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  caf::actor_system_config cfg;
  register_types(cfg);
  // As the server (app/config.hpp `SCHEDULER_POLICY`): sharing unless told otherwise.
  const char* policy = std::getenv("SCHEDULER_POLICY");
  cfg.set("scheduler.policy", policy && std::string{policy} == "stealing" ? caf::atom("stealing")
                                                                          : caf::atom("sharing"));
  caf::actor_system sys{cfg};
  bool ok = true;
  if (which != "passivating")
    ok = phase(sys, n, window, 3600, "kept") && ok;
  if (which != "kept")
    ok = phase(sys, n, window, 2, "passivating") && ok;
  auto t0 = std::chrono::steady_clock::now();
  sys.await_all_actors_done();
  std::printf("every actor done %.2f s after the last phase\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return ok ? 0 : 1;
}
