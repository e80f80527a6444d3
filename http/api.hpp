#pragma once
/// The HTTP API of the runtime (API.md), independent of the HTTP server library.
///
/// `api::handle` is called on a RESTinio I/O thread for each complete request. It never
/// blocks: it validates, authenticates and routes, then either answers at once or hands the
/// work to actors (a short-lived requester actor per call, every request with a finite timeout)
/// that answer later through the `response_sink` from a CAF thread.
/// Thread-safe; one instance per server; must outlive the server that calls it.

#include "actors/agents/agent_catalog.hpp"
#include "actors/agents/agent_registry.hpp"
#include "actors/agents/tool_actor.hpp"
#include "actors/cluster/cluster_actor.hpp"
#include "actors/db_actor.hpp"
#include "actors/health/health_actor.hpp"
#include "actors/leads/lead_analyst.hpp"
#include "actors/llm_actor.hpp"
#include "actors/workflow_actor.hpp"
#include "http/request.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pixelcraft::http {

/// The HTTP layer's settings (app/ fills them from the configuration, API.md §1, §10).
struct http_settings {
  std::string jwt_audience = "authenticated";
  std::vector<std::string> cors_origins; ///< `*` allows any origin
  std::string web_dir;    ///< npm packages of the pages (http/pages.hpp); may be empty
  std::string assets_dir; ///< development: pages read from here on each request
  uint64_t max_body_bytes = 1 << 20;
  uint64_t max_header_bytes = 16384; ///< per header line; total is 4x this (431 beyond)
  unsigned rate_limit_per_minute = 1200;
  unsigned rate_limit_burst = 300;
  unsigned idempotency_ttl_hours = 24;
  unsigned db_timeout_ms = 5000;       ///< `DB_TIMEOUT_MS` (deadlines::db)
  unsigned request_timeout_s = 120;    ///< our own HTTP deadline (504 after it)
  std::string llm_provider = "ollama"; ///< shown by `/api/models`
  std::string default_model;           ///< `OLLAMA_MODEL` for Ollama; empty for OpenAI-compatible
};

struct api_options {
  caf::actor_system* sys = nullptr;
  http_settings settings;
  db_actor db;
  health_actor health;
  agent_registry_actor agents;
  llm_actor llm;
  lead_analyst_actor leads;
  workflow_manager_actor workflows;
  tool_actor tools; ///< runs approved calls (API.md §12); may be invalid
  std::chrono::milliseconds approved_call_timeout{60000}; ///< `approved_call_timeout(...)`
  caf::actor monitors;      ///< the monitor hub (http/monitor_hub.hpp); may be invalid
  cluster_actor cluster;    ///< this node and its peers for `/health` (API.md §14); may be invalid
  bool health_only = false; ///< a worker's own listener: `/health*` and `/metrics` only
  std::shared_ptr<const agent_catalog> catalog;
  std::string version;
  std::string jwt_secret; ///< the effective secret (configured or ephemeral)
};

class api {
public:
  explicit api(api_options opts);
  ~api();
  api(const api&) = delete;
  api& operator=(const api&) = delete;

  void handle(http_request req, response_sink_ptr sink);

  /// Ends the actors that ask on behalf of requests (call after the server stopped, before
  /// waiting for the actor system); the destructor does it too.
  void stop();

  /// Every (method, pattern) served, in registration order.
  std::vector<std::pair<std::string, std::string>> routes() const;

  /// The OpenAPI document served at `/openapi.json`.
  static const std::string& openapi();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace pixelcraft::http
