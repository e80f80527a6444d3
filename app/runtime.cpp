#include "app/runtime.hpp"

#include "actors/agents/agent_registry.hpp"
#include "actors/agents/tool_actor.hpp"
#include "actors/fwd.hpp"
#include "actors/health/health_actor.hpp"
#include "actors/leads/lead_analyst.hpp"
#include "actors/log.hpp"
#include "actors/memory/memory_store.hpp"
#include "app/agent_router.hpp"
#include "app/cluster_node.hpp"
#include "app/module_options.hpp"
#include "http/auth.hpp"
#include "http/monitor_hub.hpp"
#include "integrations/health_targets.hpp"
#include "integrations/llm_client.hpp"
#include "integrations/probe_actor.hpp"
#include "integrations/vendor_client.hpp"
#include "persistence/message_mirror.hpp"
#include "persistence/pg_pool.hpp"
#include "workflows/workflow_manager.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>

namespace pixelcraft::app {

namespace {

constexpr const char* component = "pixelcraft.app";

} // namespace

runtime::runtime(caf::actor_system& sys, const config& cfg, runtime_inputs in) : sys_(sys) {
  auto as_actor = [](const auto& h) { return caf::actor_cast<caf::actor>(h); };
  auto db =
      persistence::spawn_db_pool(sys, {cfg.database_url, cfg.db_pool_size, cfg.db_timeout_ms, 3});
  started("database pool", as_actor(db));
  auto vendor_opts = vendor_options_of(cfg);
  auto llm_opts = llm_options_of(cfg);
  auto vendors = integrations::spawn_vendor_client(sys, vendor_opts);
  started("vendor client", as_actor(vendors));
  health_options hopts;
  hopts.vendors = vendors;
  auto targets = integrations::health_targets(llm_opts, vendor_opts);
  hopts.model = targets.model;
  hopts.crm = targets.crm;
  hopts.email = targets.email;
  hopts.calendar = targets.calendar;
  hopts.interval_s = cfg.health_interval_s;
  hopts.db = db;
  hopts.llm_probe = integrations::spawn_probe(sys);
  hopts.crm_probe = integrations::spawn_probe(sys);
  hopts.email_probe = integrations::spawn_probe(sys);
  hopts.calendar_probe = integrations::spawn_probe(sys);
  for (const auto& p : {hopts.llm_probe, hopts.crm_probe, hopts.email_probe, hopts.calendar_probe})
    started("probe", as_actor(p));
  hopts.version = in.version;
  hopts.auth_mode = in.ephemeral_secret ? "ephemeral" : "configured";
  hopts.node_id = in.node.incarnation;
  auto health = spawn_health(sys, hopts);
  started("health", as_actor(health));
  auto llm = integrations::spawn_llm_client(sys, llm_opts);
  started("model client", as_actor(llm));
  auto memory = spawn_memory_supervisor(sys, db, cfg.db_timeout_ms);
  started("shared memory", as_actor(memory));
  message_mirror_options mopts;
  mopts.db = db;
  mopts.db_timeout_ms = cfg.db_timeout_ms;
  auto mirror = spawn_message_mirror(sys, mopts);
  // Agent messages still queued are written while the database is up.
  started("agent-message mirror", as_actor(mirror), [this, mirror] {
    caf::scoped_actor self{sys_};
    self->request(mirror, std::chrono::seconds(3), mirror_flush_atom_v)
        .receive(
            [](bool) {},
            [](caf::error& err) {
              log::warn(component, "agent messages not flushed", {{"error", caf::to_string(err)}});
            });
  });
  auto tools = spawn_tool_actor(sys, {in.catalog, vendors, db, memory, tool_settings_of(cfg)});
  started("tools", as_actor(tools));
  auto agents =
      spawn_agent_registry(sys, {in.catalog, db, llm, tools, mirror, agent_settings_of(cfg)});
  started("agents", as_actor(agents));
  auto leads = spawn_lead_analyst(sys, {in.catalog, agents});
  started("lead analyst", as_actor(leads));
  auto monitors =
      http::spawn_monitor_hub(sys, db, cfg.db_timeout_ms, size_t{cfg.monitor_backlog_kib} * 1024);
  started("workflow monitors", as_actor(monitors));
  // The cluster (API.md §14): membership always (a lost peer's executions resume here at
  // once), links and event fan-out only with a cluster listener.
  cluster_options copts;
  copts.self = in.node;
  copts.dsn = cfg.database_url;
  copts.db_timeout_ms = cfg.db_timeout_ms;
  copts.hub = monitors;
  copts.agents = agents;
  copts.llm = llm;
  copts.link = cfg.cluster_port != 0;
  cluster_ = spawn_cluster(sys, copts);
  started("cluster", as_actor(cluster_),
          [this] { leave(sys_, cluster_, std::chrono::seconds(3)); });
  workflows::manager_options wopts;
  wopts.bus = copts.link ? event_bus_actor{cluster_} : event_bus_actor{monitors};
  wopts.cluster = cluster_;
  wopts.run_here = in.node.runs_workflows();
  wopts.memory = memory;
  wopts.mirror = mirror;
  wopts.db = db;
  wopts.agents = agents;
  wopts.settings = workflow_settings_of(cfg);
  wopts.node_id = in.node.owner();
  wopts.lease_s = cfg.workflow_lease_s;
  auto workflows = workflows::spawn_workflow_manager(sys, wopts);
  started("workflows", as_actor(workflows));
  attach_manager(cluster_, workflows);

  api_.workflows = workflows;
  api_.tools = tools;
  api_.approved_call_timeout = approved_call_timeout(tool_settings_of(cfg));
  api_.monitors = as_actor(monitors);
  api_.sys = &sys;
  api_.settings = http_settings_of(cfg);
  api_.db = db;
  api_.health = health;
  api_.agents = agents;
  if (copts.link) {
    // Conversations' turns go to the node their id hashes to (API.md §14 placement).
    auto router = spawn_agent_router(sys, {agents, cluster_, cfg.request_timeout_s});
    started("agent router", as_actor(router));
    api_.agents = router;
  }
  api_.llm = llm;
  api_.leads = leads;
  api_.catalog = in.catalog;
  api_.version = in.version;
  api_.cluster = cluster_;
  api_.jwt_secret = in.jwt_secret;
}

std::string runtime::listen_cluster(uint16_t port) {
  return listen(sys_, cluster_, port, {});
}

runtime::~runtime() {
  stop();
}

void runtime::started(std::string name, caf::actor handle, std::function<void()> before_stop) {
  stack_.push_back({std::move(name), std::move(handle), std::move(before_stop)});
}

void runtime::stop(std::chrono::milliseconds grace) {
  if (stopped_)
    return;
  stopped_ = true;
  caf::scoped_actor self{sys_};
  for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
    if (it->before_stop)
      it->before_stop();
    self->monitor(it->handle);
    self->send_exit(it->handle, caf::exit_reason::user_shutdown);
    auto until = std::chrono::steady_clock::now() + grace;
    bool down = false, late = false;
    while (!down && !late) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      self->receive(
          [&](caf::down_msg& dm) {
            down = dm.source == it->handle.address();
          }, // not an earlier one
          caf::after(std::max(left, std::chrono::milliseconds(0))) >> [&] { late = true; });
    }
    if (!down)
      log::warn(component, "an actor did not stop in time; going on",
                {{"actor", it->name}, {"grace_ms", static_cast<uint64_t>(grace.count())}});
  }
  stack_.clear();
}

} // namespace pixelcraft::app
