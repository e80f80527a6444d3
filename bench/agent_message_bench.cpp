// Agent-to-agent messages per second inside one workflow execution, with the agent_messages
// mirror on and off, in one run. In process: the real agent registry, agent actors, mirror and
// database pool (a throwaway PostgreSQL); no HTTP and no model in the path.
// Usage: agent_message_bench [messages=20000] [window=256]. Needs PIXELCRAFT_TEST_PG_DSN.
#include "actors/agents/agent_catalog.hpp"
#include "actors/agents/agent_registry.hpp"
#include "actors/errc.hpp"
#include "actors/messages.hpp"
#include "persistence/message_mirror.hpp"
#include "persistence/pg_pool.hpp"
#include "tests/support/pg.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>

using namespace pixelcraft;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

struct cfg_t : caf::actor_system_config {
  cfg_t() {
    register_types(*this);
    // As the server (app/config.hpp `SCHEDULER_POLICY`): sharing unless told otherwise.
    const char* policy = std::getenv("SCHEDULER_POLICY");
    set("scheduler.policy",
        policy && std::string{policy} == "stealing" ? caf::atom("stealing") : caf::atom("sharing"));
  }
};

struct outcome {
  double seconds = 0;           ///< until every row is stored (mirror on) or delivered (off)
  double delivered_seconds = 0; ///< until every message is delivered
  int delivered = 0;
  long long stored = -1; ///< rows in agent_messages afterwards (mirror on)
};

/// A new collaborative execution of the two agents; its id ("" on an error, printed).
std::string new_run(caf::scoped_actor& self, const db_actor& db) {
  run_spec spec;
  spec.workflow_type = "collaborative";
  spec.participating_agents = {"digital_marketing", "content_creation"};
  std::string id;
  self->request(db, std::chrono::seconds(30), run_new_atom_v, spec)
      .receive(
          [&](run_row& row) { id = row.workflow_id; },
          [&](caf::error& e) { std::fprintf(stderr, "run_new: %s\n", caf::to_string(e).c_str()); });
  return id;
}

/// Sends `n` messages from one agent's actor to another's, at most `window` unanswered at a
/// time; with a mirror, the time includes the final flush (every row stored).
outcome run(caf::actor_system& sys, const db_actor& db, bool mirrored, int n, int window) {
  caf::scoped_actor self{sys};
  message_mirror_actor mirror;
  if (mirrored) {
    message_mirror_options mo;
    mo.db = db;
    mirror = spawn_message_mirror(sys, mo);
  }
  std::string catalog_error;
  auto catalog = agent_catalog::load(agent_catalog::builtin_json(), "llama3.2", catalog_error);
  auto registry =
      spawn_agent_registry(sys, {catalog, db, llm_actor{}, tool_actor{}, mirror, agent_settings{}});
  auto wf = new_run(self, db);
  workflow_agent_actor sender;
  self->request(registry, std::chrono::seconds(10), agent_peer_atom_v,
                std::string{"digital_marketing"}, wf)
      .receive(
          [&](caf::actor& a) { sender = caf::actor_cast<workflow_agent_actor>(a); },
          [&](caf::error& e) { std::fprintf(stderr, "peer: %s\n", caf::to_string(e).c_str()); });
  outgoing_message text;
  text.to_agent = "content_creation";
  text.message_type = "notification";
  text.content = R"({"campaign":"launch","channel":"email"})";
  outcome out;
  auto t0 = clock_type::now();
  // A driver actor keeps `window` sends in flight and answers with the delivered count.
  struct driver_state {
    int sent = 0, answered = 0, delivered = 0;
    caf::response_promise done;
  };
  auto driver =
      sys.spawn([sender, text, n, window](caf::stateful_actor<driver_state>* d) -> caf::behavior {
        auto send_one = std::make_shared<std::function<void()>>();
        *send_one = [d, sender, text, n, send_one] {
          ++d->state.sent;
          d->request(sender, std::chrono::seconds(60), amsg_send_atom_v, text)
              .then(
                  [d, n, send_one](const agent_message& reply) {
                    auto& st = d->state;
                    st.delivered += reply.status == "delivered";
                    if (++st.answered == n)
                      st.done.deliver(st.delivered);
                    else if (st.sent < n)
                      (*send_one)();
                  },
                  [d, n, send_one](caf::error& e) {
                    std::fprintf(stderr, "send: %s\n", caf::to_string(e).c_str());
                    auto& st = d->state;
                    if (++st.answered == n)
                      st.done.deliver(st.delivered);
                    else if (st.sent < n)
                      (*send_one)();
                  });
        };
        return {
            [d, send_one, n, window](caf::get_atom) {
              d->state.done = d->make_response_promise();
              for (int i = 0; i < std::min(n, window); ++i)
                (*send_one)();
              return d->state.done;
            },
        };
      });
  self->request(driver, std::chrono::seconds(600), caf::get_atom_v)
      .receive(
          [&](int delivered) { out.delivered = delivered; },
          [&](caf::error& e) { std::fprintf(stderr, "driver: %s\n", caf::to_string(e).c_str()); });
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  out.delivered_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (mirrored)
    self->request(mirror, std::chrono::seconds(120), mirror_flush_atom_v)
        .receive(
            [](bool) {},
            [](caf::error& e) { std::fprintf(stderr, "flush: %s\n", caf::to_string(e).c_str()); });
  out.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (mirrored)
    self->request(db, std::chrono::seconds(60), amsg_list_atom_v,
                  agent_message_filter{wf, "", "", "", "", false, 1, 0})
        .receive([&](agent_message_page& page) { out.stored = page.total; },
                 [](caf::error& e) {
                   std::fprintf(stderr, "amsg_list: %s\n", caf::to_string(e).c_str());
                 });
  self->send_exit(registry, caf::exit_reason::user_shutdown);
  if (mirror)
    self->send_exit(mirror, caf::exit_reason::user_shutdown);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  int window = argc > 2 ? std::atoi(argv[2]) : 256;
  if (test::admin_dsn().empty()) {
    std::fprintf(stderr, "set PIXELCRAFT_TEST_PG_DSN (bench/run.sh does)\n");
    return 2;
  }
  cfg_t cfg;
  caf::actor_system sys{cfg};
  auto db = persistence::spawn_db_pool(sys, {test::create_database(), 4, 5000, 3});
  // Warm-up (connections, migrations, code paths), then the two measured runs.
  run(sys, db, true, std::min(n, 1000), window);
  auto off = run(sys, db, false, n, window);
  if (std::getenv("AMB_OFF_ONLY")) { // for profiling the actors alone
    std::printf("mirror off: %d delivered in %.3f s = %.0f msg/s\n", off.delivered, off.seconds,
                off.delivered / off.seconds);
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
    return 0;
  }
  auto on = run(sys, db, true, n, window);
  std::printf("messages=%d window=%d\n", n, window);
  std::printf("mirror off: %d delivered in %.3f s = %.0f msg/s\n", off.delivered, off.seconds,
              off.delivered / off.seconds);
  std::printf("mirror on:  %d delivered in %.3f s = %.0f msg/s; all %lld rows stored after %.3f s "
              "= %.0f msg/s\n",
              on.delivered, on.delivered_seconds, on.delivered / on.delivered_seconds, on.stored,
              on.seconds, on.delivered / on.seconds);
  std::printf("mirror on / off throughput (stored / delivered): %.2f\n",
              (on.delivered / on.seconds) / (off.delivered / off.seconds));
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  return on.delivered == n && off.delivered == n && on.stored == n ? 0 : 1;
}
