#include "app/cli.hpp"

#include "actors/agents/agent_catalog.hpp"
#include "actors/fwd.hpp"
#include "actors/log.hpp"
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
  caf::actor_system sys{caf_cfg};
  runtime rt{sys, cfg, {catalog, secret, ephemeral, PIXELCRAFT_VERSION, node_id()}};
  http::api api{rt.api_options()};

  auto sopts = server_options_of(cfg);
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
  api.stop(); // its requester actors; the server no longer hands it requests
  rt.stop();
  // Request actors may still answer through `api` while they wind down: wait for every actor
  // here, while `api` (and what it points to) is still alive.
  sys.await_all_actors_done();
  return rc;
}

} // namespace pixelcraft::app
