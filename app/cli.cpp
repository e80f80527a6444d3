#include "app/cli.hpp"

#include "actors/agent_catalog.hpp"
#include "actors/agent_registry.hpp"
#include "actors/config.hpp"
#include "actors/fwd.hpp"
#include "actors/health_actor.hpp"
#include "actors/log.hpp"
#include "actors/memory_store.hpp"
#include "actors/message_mirror.hpp"
#include "actors/tool_actor.hpp"
#include "http/api.hpp"
#include "http/auth.hpp"
#include "http/monitor_hub.hpp"
#include "http/server.hpp"
#include "integrations/llm_client.hpp"
#include "integrations/probe_actor.hpp"
#include "integrations/vendor_client.hpp"
#include "persistence/migrations.hpp"
#include "persistence/pg_pool.hpp"
#include "workflows/workflow_manager.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <unistd.h>

extern char** environ;

namespace pixelcraft::app {

namespace {

constexpr const char* component = "pixelcraft.app";

bool load_config_or_report(config& out) {
  auto r = load_config(load_variables());
  if (!r.ok) {
    log::error(component, "invalid configuration", {{"error", r.error}});
    std::fprintf(stderr, "pixelcraft: invalid configuration: %s\n", r.error.c_str());
    return false;
  }
  log::level lvl;
  if (log::parse_level(r.value.log_level, lvl))
    log::set_level(lvl);
  out = std::move(r.value);
  return true;
}

std::string node_id() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0)
    std::snprintf(host, sizeof(host), "localhost");
  return std::string{host} + "-" + std::to_string(getpid());
}

} // namespace

std::map<std::string, std::string> load_variables() {
  std::map<std::string, std::string> vars;
  const char* path = std::getenv("PIXELCRAFT_ENV_FILE");
  std::ifstream in{path ? path : ".env"};
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<int> bad;
    vars = parse_dotenv(ss.str(), &bad);
    for (int line : bad)
      log::warn(component, "ignoring malformed .env line", {{"line", line}});
  } else if (path) {
    log::warn(component, "PIXELCRAFT_ENV_FILE not readable", {{"path", path}});
  }
  for (char** e = environ; e && *e; ++e) {
    std::string kv{*e};
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return vars;
}

int run_migrate() {
  config cfg;
  if (!load_config_or_report(cfg))
    return 2;
  if (cfg.database_url.empty()) {
    std::fprintf(stderr, "pixelcraft: DATABASE_URL is not set\n");
    return 2;
  }
  auto r = persistence::apply_migrations(cfg.database_url);
  if (!r.ok) {
    std::fprintf(stderr, "pixelcraft: %s\n", r.error.c_str());
    return 1;
  }
  std::printf("schema at version %d (%zu migration(s) applied)\n", r.version, r.applied.size());
  return 0;
}

int run_serve() {
  config cfg;
  if (!load_config_or_report(cfg))
    return 2;
  // Signals are taken with sigwait below; block them before any thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  integrations::global_init();

  std::string catalog_text = agent_catalog::builtin_json();
  if (!cfg.agents_file.empty()) {
    std::ifstream in{cfg.agents_file};
    if (!in) {
      std::fprintf(stderr, "pixelcraft: invalid configuration: AGENTS_FILE: cannot read %s\n",
                   cfg.agents_file.c_str());
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    catalog_text = ss.str();
  }
  std::string catalog_error;
  auto catalog = agent_catalog::load(catalog_text, cfg.ollama_model, catalog_error);
  if (!catalog) {
    std::fprintf(stderr, "pixelcraft: invalid configuration: AGENTS_FILE: %s\n",
                 catalog_error.c_str());
    return 2;
  }

  bool ephemeral = cfg.jwt_secret.empty();
  auto secret = ephemeral ? http::random_hex(32) : cfg.jwt_secret;

  if (cfg.database_url.empty()) {
    log::warn(component, "DATABASE_URL is not set: database routes answer 503");
  } else {
    auto m = persistence::apply_migrations(cfg.database_url);
    if (m.ok)
      log::info(component, "schema ready",
                {{"version", m.version}, {"applied", static_cast<uint64_t>(m.applied.size())}});
    else
      log::warn(component, "database not ready at start-up; will keep retrying",
                {{"error", m.error}});
  }

  caf::actor_system_config caf_cfg;
  register_types(caf_cfg);
  caf::actor_system sys{caf_cfg};
  auto db =
      persistence::spawn_db_pool(sys, {cfg.database_url, cfg.db_pool_size, cfg.db_timeout_ms, 3});
  auto vendors = integrations::spawn_vendor_client(sys, cfg);
  health_options hopts;
  hopts.vendors = vendors;
  hopts.cfg = cfg;
  hopts.db = db;
  hopts.llm_probe = integrations::spawn_probe(sys);
  hopts.crm_probe = integrations::spawn_probe(sys);
  hopts.email_probe = integrations::spawn_probe(sys);
  hopts.calendar_probe = integrations::spawn_probe(sys);
  hopts.version = PIXELCRAFT_VERSION;
  hopts.auth_mode = ephemeral ? "ephemeral" : "configured";
  hopts.node_id = node_id();
  auto probes = {hopts.llm_probe, hopts.crm_probe, hopts.email_probe, hopts.calendar_probe};
  auto health = spawn_health(sys, hopts);

  auto llm = integrations::spawn_llm_client(sys, cfg);
  auto memory = spawn_memory_supervisor(sys, db, cfg.db_timeout_ms);
  message_mirror_options mopts;
  mopts.db = db;
  mopts.db_timeout_ms = cfg.db_timeout_ms;
  auto mirror = spawn_message_mirror(sys, mopts);
  auto tools = spawn_tool_actor(sys, {catalog, vendors, db, memory, cfg});
  auto agents = spawn_agent_registry(sys, {catalog, db, llm, tools, mirror, cfg});

  auto monitors =
      http::spawn_monitor_hub(sys, db, cfg.db_timeout_ms, size_t{cfg.monitor_backlog_kib} * 1024);
  workflows::manager_options wopts;
  wopts.bus = monitors;
  wopts.memory = memory;
  wopts.mirror = mirror;
  wopts.db = db;
  wopts.agents = agents;
  wopts.cfg = cfg;
  wopts.node_id = node_id() + "-" + http::random_hex(4);
  wopts.lease_s = cfg.workflow_lease_s;
  auto workflows = workflows::spawn_workflow_manager(sys, wopts);

  http::api_options aopts;
  aopts.workflows = workflows;
  aopts.monitors = caf::actor_cast<caf::actor>(monitors);
  aopts.sys = &sys;
  aopts.cfg = cfg;
  aopts.db = db;
  aopts.health = health;
  aopts.agents = agents;
  aopts.llm = llm;
  aopts.catalog = catalog;
  aopts.version = PIXELCRAFT_VERSION;
  aopts.jwt_secret = secret;
  http::api api{aopts};

  http::server_options sopts;
  sopts.host = cfg.app_host;
  sopts.port = cfg.app_port;
  sopts.max_body_bytes = cfg.max_body_bytes;
  sopts.max_header_bytes = cfg.max_header_bytes;
  sopts.max_connections = cfg.max_connections;
  sopts.max_connections_per_client = cfg.max_connections_per_client;
  sopts.header_timeout = std::chrono::seconds(cfg.header_timeout_s);
  sopts.handle_timeout =
      std::chrono::seconds(std::max(cfg.request_timeout_s, cfg.llm_timeout_s) + 60);
  std::string error;
  auto server = http::http_server::start(
      sopts,
      [&api](http::http_request r, http::response_sink_ptr s) {
        api.handle(std::move(r), std::move(s));
      },
      error);
  int rc = 0;
  if (!server) {
    log::error(component, "cannot start HTTP server",
               {{"host", cfg.app_host}, {"port", cfg.app_port}, {"error", error}});
    std::fprintf(stderr, "pixelcraft: cannot listen on %s:%u: %s\n", cfg.app_host.c_str(),
                 cfg.app_port, error.c_str());
    rc = 1;
  } else {
    log::info(component, "listening",
              {{"host", cfg.app_host},
               {"port", server->port()},
               {"version", PIXELCRAFT_VERSION},
               {"auth", ephemeral ? "ephemeral" : "configured"}});
    // Machine-readable line for scripts and tests that start us on port 0.
    std::printf("pixelcraft listening on http://%s:%u\n", cfg.app_host.c_str(), server->port());
    if (ephemeral) {
      auto now = static_cast<long long>(std::time(nullptr));
      auto token =
          http::jwt_sign_hs256("{\"sub\":\"ephemeral-admin\",\"aud\":\"" + cfg.jwt_audience +
                                   "\",\"role\":\"service_role\",\"iat\":" + std::to_string(now) +
                                   ",\"exp\":" + std::to_string(now + 24 * 3600) + "}",
                               secret);
      std::printf("SUPABASE_JWT_SECRET is not set: using an ephemeral secret for this process.\n"
                  "Admin token (valid 24 h): %s\n",
                  token.c_str());
    }
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    log::info(component, "shutting down", {{"signal", sig}});
    server->stop();
  }
  caf::anon_send_exit(workflows, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(monitors, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(memory, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(agents, caf::exit_reason::user_shutdown);
  {
    // Agent messages still queued for the mirror are written while the database is up.
    caf::scoped_actor self{sys};
    self->request(mirror, std::chrono::seconds(3), mirror_flush_atom_v)
        .receive(
            [](bool) {},
            [](caf::error& err) {
              log::warn(component, "agent messages not flushed", {{"error", caf::to_string(err)}});
            });
  }
  caf::anon_send_exit(mirror, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(llm, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(tools, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(vendors, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(health, caf::exit_reason::user_shutdown);
  for (auto& p : probes)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  // Request actors may still answer through `api` while they wind down: wait for every actor
  // here, while `api` (and what it points to) is still alive.
  sys.await_all_actors_done();
  return rc;
}

} // namespace pixelcraft::app
