#pragma once
/// Runtime configuration: the environment, then an optional `.env` file (API.md §10).
///
/// `load_config` is pure (it takes the variables as a map) so it is unit-tested; app/ builds the
/// map from `environ` and `.env`. A bad value yields an error naming the variable, and app/ stops.

#include "actors/agents/tool_policy.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pixelcraft {

/// scheme://host[:port] with scheme http or https, no trailing slash.
struct base_url {
  std::string scheme;
  std::string host;
  uint16_t port = 0; ///< explicit or the scheme's default
  std::string text;  ///< normalised `scheme://host[:port]`
};

struct config {
  std::string app_host = "0.0.0.0";
  uint16_t app_port = 8000;
  std::string database_url; ///< empty: not configured (the server reports it unhealthy)
  std::string jwt_secret;   ///< empty: ephemeral secret generated at start-up
  std::string jwt_audience = "authenticated";
  std::string llm_provider = "ollama"; ///< `ollama` or `openai`
  base_url ollama_host;
  std::string ollama_model = "llama3.2";
  base_url openai_base_url;
  std::string openai_api_key;
  std::string crm_api_key;
  base_url crm_api_url;
  std::string email_api_key;
  base_url email_api_url;
  std::string email_from = "noreply@pixelcraft.example";
  std::string email_notify_to; ///< sales team address for notifications (default: from)
  std::string calendar_api_key;
  base_url calendar_api_url;
  std::string calendar_id;
  std::vector<std::string> cors_origins; ///< `*` allows any origin
  /// `PIXELCRAFT_WEB_DIR`: where scripts/web-deps.sh installed the pages' npm packages
  /// (Swagger UI); default `<build>/web`. Missing: `/docs` serves its built-in reader.
  std::string web_dir;
  /// `PIXELCRAFT_ASSETS_DIR`: pages read from here on each request (development); empty: the
  /// copies embedded in the binary.
  std::string assets_dir;
  std::string log_level = "info";
  uint64_t max_body_bytes = 1 << 20;
  uint64_t max_header_bytes = 16384;         ///< per header line; total is 4x this (431 beyond)
  unsigned max_connections = 10000;          ///< open connections in all (503 past it)
  unsigned max_connections_per_client = 256; ///< per client address (503 past it)
  unsigned header_timeout_s = 10;            ///< request headers complete within this, else closed
  unsigned db_pool_size = 4;
  unsigned db_timeout_ms = 5000;         ///< per database request (statement timeout + margin)
  unsigned request_timeout_s = 120;      ///< our own HTTP deadline (504 after it)
  unsigned health_interval_s = 15;       ///< background re-check period (contract: <= 30 s)
  unsigned rate_limit_per_minute = 1200; ///< anonymous writes per client IP
  unsigned rate_limit_burst = 300;
  unsigned idempotency_ttl_hours = 24;
  unsigned llm_timeout_s = 120;      ///< overall deadline of one model call
  unsigned llm_stall_timeout_s = 30; ///< no bytes from the model for this long: stalled
  unsigned llm_connect_timeout_s = 3;
  unsigned llm_max_concurrency = 4;  ///< calls in flight per model; the rest queue
  unsigned llm_queue_limit = 256;    ///< queued calls per model before `unavailable`
  unsigned llm_retries = 2;          ///< retries before the first token (connect, 5xx, 429)
  std::string llm_keep_alive = "5m"; ///< Ollama `keep_alive`
  unsigned history_turns = 10;       ///< conversation turns sent to the model
  std::string agents_file;           ///< empty: the built-in catalogue
  unsigned agent_idle_s = 300;       ///< an idle agent actor is passivated after this
  /// CAF's scheduler (`SCHEDULER_POLICY`): `sharing` (one queue) or `stealing` (CAF's default).
  /// CAF 0.17's stealing takes a job from another worker's queue by walking that queue, so a
  /// burst of runnable actors (a million agents told to stop) costs O(n²); sharing does not.
  std::string scheduler_policy = "sharing";
  unsigned vendor_timeout_ms = 10000;      ///< one vendor HTTP attempt
  unsigned vendor_retries = 3;             ///< retries on 429, 5xx, timeouts, connection errors
  unsigned vendor_backoff_ms = 200;        ///< first backoff; doubles, with jitter
  unsigned breaker_failures = 5;           ///< consecutive failures that open a service's circuit
  unsigned breaker_open_s = 30;            ///< how long an open circuit refuses calls
  unsigned tool_rounds = 4;                ///< model/tool round trips per turn
  policy_overrides tool_policy;            ///< `TOOL_POLICY` (API.md §12)
  unsigned tool_budget_per_turn = 3;       ///< write/send calls per chat turn or workflow step
  unsigned tool_budget_anon_per_hour = 10; ///< write/send calls per anonymous client address
  unsigned approval_ttl_s = 86400;         ///< an undecided approval expires after this
  unsigned workflow_lease_s = 30;          ///< a crashed node's executions resume after this
  unsigned monitor_backlog_kib = 4096;     ///< a workflow monitor this far behind is closed

  // Cluster (API.md §14). Standalone (no listener, no remoting) unless `CLUSTER_PORT` is set.
  std::string node_name;         ///< `NODE_NAME`; empty: the host name (cli.cpp)
  unsigned cluster_port = 0;     ///< `CLUSTER_PORT`: the node's mutual-TLS listener; 0: none
  std::string cluster_host;      ///< `CLUSTER_ADVERTISE` host other nodes dial (default: name)
  unsigned cluster_adv_port = 0; ///< `CLUSTER_ADVERTISE` port (default: `cluster_port`)
  std::string cluster_tls_cert;  ///< `CLUSTER_TLS_CERT`: the node's certificate chain (PEM)
  std::string cluster_tls_key;   ///< `CLUSTER_TLS_KEY`: its private key (PEM)
  std::string cluster_tls_ca;    ///< `CLUSTER_TLS_CA`: the cluster CA (PEM); peers must chain to it
  std::string cluster_tls_passphrase; ///< `CLUSTER_TLS_PASSPHRASE`: for an encrypted key
  int worker_health_port = -1; ///< `WORKER_HEALTH_PORT`: a worker's health listener (-1: none)
};

struct config_result {
  bool ok = false;
  config value;
  std::string error; ///< names the offending variable
};

config_result load_config(const std::map<std::string, std::string>& vars);

/// A node name: 1..64 of A-Z a-z 0-9 . _ - (it appears in lease owners and addresses).
bool node_name_ok(const std::string& name);

/// Parses `.env` text (KEY=VALUE, `#` comments, optional `export `, single or double quotes).
/// Lines that do not parse are reported in `bad_lines` (1-based) and skipped.
std::map<std::string, std::string> parse_dotenv(const std::string& text,
                                                std::vector<int>* bad_lines = nullptr);

/// Parses a base URL; returns false with a reason on failure.
bool parse_base_url(const std::string& text, base_url& out, std::string& why);

} // namespace pixelcraft
