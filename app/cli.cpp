#include "app/cli.hpp"

#include "actors/agents/agent_catalog.hpp"
#include "actors/cluster/protocol.hpp"
#include "actors/fwd.hpp"
#include "actors/ids.hpp"
#include "actors/log.hpp"
#include "app/cluster_tls.hpp"
#include "app/config.hpp"
#include "app/module_options.hpp"
#include "app/runtime.hpp"
#include "http/api.hpp"
#include "http/auth.hpp"
#include "http/server.hpp"
#include "integrations/probe_actor.hpp"
#include "persistence/migrations.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
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

std::string host_name() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0)
    std::snprintf(host, sizeof(host), "localhost");
  return host;
}

/// This process as the cluster knows it (API.md §14).
node_ref this_node(const config& cfg, const std::string& role) {
  node_ref n;
  n.name = cfg.node_name;
  if (n.name.empty()) {
    n.name = host_name();
    if (!node_name_ok(n.name))
      n.name = "node";
  }
  n.incarnation = random_uuid();
  n.role = role;
  if (cfg.cluster_port != 0) {
    n.host = cfg.cluster_host.empty() ? host_name() : cfg.cluster_host;
    n.port = static_cast<int32_t>(cfg.cluster_adv_port);
  }
  return n;
}

/// CAF's remoting for a cluster node: TLS only (CLUSTER-NOTES §7, §9c). The plain middleman
/// is loaded (the TLS module needs it) but never publishes or opens anything; automatic
/// connections stay off. Heartbeats are the same on every node: 1 s, and 10 s of silence is a
/// lost peer (a frozen host or a cut link, which TCP alone would notice only after minutes).
void configure_remoting(caf::actor_system_config& caf_cfg, const config& cfg) {
  caf_cfg.load<caf::io::middleman>();
  caf_cfg.load<caf::openssl::manager>();
  caf_cfg.openssl_certificate = cfg.cluster_tls_cert;
  caf_cfg.openssl_key = cfg.cluster_tls_key;
  caf_cfg.openssl_passphrase = cfg.cluster_tls_passphrase;
  caf_cfg.openssl_cafile = cfg.cluster_tls_ca;
  caf_cfg.set("middleman.app-identifiers", std::vector<std::string>{wire_app_id()});
  caf_cfg.set("middleman.enable-automatic-connections", false);
  caf_cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
  caf_cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(10)});
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

int run_serve(const std::string& role) {
  config cfg;
  if (!load_config_or_report(cfg))
    return 2;
  if (role == "worker" && cfg.cluster_port == 0) {
    std::fprintf(stderr, "pixelcraft: invalid configuration: CLUSTER_PORT: required by "
                         "`pixelcraft node` (a worker is reached only through the cluster)\n");
    return 2;
  }
  if (auto why = check_cluster_tls(cfg); !why.empty()) {
    log::error(component, "invalid configuration", {{"error", why}});
    std::fprintf(stderr, "pixelcraft: invalid configuration: %s\n", why.c_str());
    return 2;
  }
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
  auto catalog =
      agent_catalog::load(catalog_text, cfg.ollama_model, catalog_error, cfg.tool_policy);
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
  caf_cfg.set("scheduler.policy",
              cfg.scheduler_policy == "stealing" ? caf::atom("stealing") : caf::atom("sharing"));
  if (cfg.cluster_port != 0)
    configure_remoting(caf_cfg, cfg);
  caf::actor_system sys{caf_cfg};
  auto node = this_node(cfg, role);
  runtime rt{sys, cfg, {catalog, secret, ephemeral, PIXELCRAFT_VERSION, node}};
  if (cfg.cluster_port != 0) {
    if (auto why = rt.listen_cluster(static_cast<uint16_t>(cfg.cluster_port)); !why.empty()) {
      log::error(component, "cannot open the cluster listener",
                 {{"port", cfg.cluster_port}, {"error", why}});
      std::fprintf(stderr, "pixelcraft: cannot listen on cluster port %u: %s\n", cfg.cluster_port,
                   why.c_str());
      rt.stop();
      sys.await_all_actors_done();
      return 1;
    }
    log::info(component, "cluster listener open (mutual TLS)",
              {{"node", node.name},
               {"id", node.incarnation},
               {"role", role},
               {"port", cfg.cluster_port},
               {"advertise", node.host + ":" + std::to_string(node.port)}});
  }
  auto api_opts = rt.api_options();
  auto sopts = server_options_of(cfg);
  if (role == "worker") {
    // No public HTTP: at most its own health on WORKER_HEALTH_PORT.
    api_opts.health_only = true;
    sopts.port = static_cast<uint16_t>(std::max(0, cfg.worker_health_port));
  }
  http::api api{api_opts};

  std::string error;
  std::unique_ptr<http::http_server> server;
  if (role != "worker" || cfg.worker_health_port >= 0)
    server = http::http_server::start(
        sopts,
        [&api](http::http_request r, http::response_sink_ptr s) {
          api.handle(std::move(r), std::move(s));
        },
        error);
  int rc = 0;
  if (!server && role == "worker" && cfg.worker_health_port < 0) {
    log::info(component, "worker node ready", {{"node", node.name}, {"id", node.incarnation}});
    std::printf("pixelcraft node %s ready (cluster port %u)\n", node.name.c_str(),
                cfg.cluster_port);
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    log::info(component, "shutting down", {{"signal", sig}});
  } else if (!server) {
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
  api.stop(); // its requester actors; the server no longer hands it requests
  rt.stop();
  // Request actors may still answer through `api` while they wind down: wait for every actor
  // here, while `api` (and what it points to) is still alive.
  sys.await_all_actors_done();
  return rc;
}

} // namespace pixelcraft::app
