#include "app/module_options.hpp"

#include <algorithm>
#include <chrono>

namespace pixelcraft::app {

integrations::llm_options llm_options_of(const config& cfg) {
  integrations::llm_options o;
  o.provider = cfg.llm_provider;
  o.ollama_url = cfg.ollama_host.text;
  o.openai_url = cfg.openai_base_url.text;
  o.api_key = cfg.openai_api_key;
  o.timeout_s = cfg.llm_timeout_s;
  o.stall_timeout_s = cfg.llm_stall_timeout_s;
  o.connect_timeout_s = cfg.llm_connect_timeout_s;
  o.max_concurrency = cfg.llm_max_concurrency;
  o.queue_limit = cfg.llm_queue_limit;
  o.retries = cfg.llm_retries;
  o.keep_alive = cfg.llm_keep_alive;
  return o;
}

integrations::vendor_options vendor_options_of(const config& cfg) {
  integrations::vendor_options o;
  o.crm = {cfg.crm_api_url.text, cfg.crm_api_key};
  o.email = {cfg.email_api_url.text, cfg.email_api_key};
  o.calendar = {cfg.calendar_api_url.text, cfg.calendar_api_key};
  o.calendar_id = cfg.calendar_id;
  o.email_from = cfg.email_from;
  o.email_notify_to = cfg.email_notify_to;
  o.timeout_ms = cfg.vendor_timeout_ms;
  o.retries = cfg.vendor_retries;
  o.backoff_ms = cfg.vendor_backoff_ms;
  o.breaker_failures = cfg.breaker_failures;
  o.breaker_open_s = cfg.breaker_open_s;
  return o;
}

agent_settings agent_settings_of(const config& cfg) {
  agent_settings o;
  o.agent_idle_s = cfg.agent_idle_s;
  o.history_turns = cfg.history_turns;
  o.llm_timeout_s = cfg.llm_timeout_s;
  o.tool_rounds = cfg.tool_rounds;
  o.db_timeout_ms = cfg.db_timeout_ms;
  o.request_timeout_s = cfg.request_timeout_s;
  return o;
}

tool_settings tool_settings_of(const config& cfg) {
  tool_settings o;
  o.crm_configured = !cfg.crm_api_key.empty();
  o.email_configured = !cfg.email_api_key.empty();
  o.calendar_configured = !cfg.calendar_api_key.empty() && !cfg.calendar_id.empty();
  o.email_from = cfg.email_from;
  o.email_notify_to = cfg.email_notify_to;
  o.vendor_timeout_ms = cfg.vendor_timeout_ms;
  o.vendor_retries = cfg.vendor_retries;
  o.vendor_backoff_ms = cfg.vendor_backoff_ms;
  o.db_timeout_ms = cfg.db_timeout_ms;
  o.budget_per_turn = cfg.tool_budget_per_turn;
  o.budget_anon_per_hour = cfg.tool_budget_anon_per_hour;
  o.approval_ttl_s = cfg.approval_ttl_s;
  return o;
}

workflows::workflow_settings workflow_settings_of(const config& cfg) {
  workflows::workflow_settings o;
  o.request_timeout_s = cfg.request_timeout_s;
  o.db_timeout_ms = cfg.db_timeout_ms;
  return o;
}

http::http_settings http_settings_of(const config& cfg) {
  http::http_settings o;
  o.jwt_audience = cfg.jwt_audience;
  o.cors_origins = cfg.cors_origins;
  o.web_dir = cfg.web_dir;
  o.assets_dir = cfg.assets_dir;
  o.max_body_bytes = cfg.max_body_bytes;
  o.max_header_bytes = cfg.max_header_bytes;
  o.rate_limit_per_minute = cfg.rate_limit_per_minute;
  o.rate_limit_burst = cfg.rate_limit_burst;
  o.idempotency_ttl_hours = cfg.idempotency_ttl_hours;
  o.db_timeout_ms = cfg.db_timeout_ms;
  o.request_timeout_s = cfg.request_timeout_s;
  o.llm_provider = cfg.llm_provider;
  o.default_model = cfg.llm_provider == "openai" ? std::string{} : cfg.ollama_model;
  return o;
}

http::server_options server_options_of(const config& cfg) {
  http::server_options o;
  o.host = cfg.app_host;
  o.port = cfg.app_port;
  o.max_body_bytes = cfg.max_body_bytes;
  o.max_header_bytes = cfg.max_header_bytes;
  o.max_connections = cfg.max_connections;
  o.max_connections_per_client = cfg.max_connections_per_client;
  o.header_timeout = std::chrono::seconds(cfg.header_timeout_s);
  o.handle_timeout = std::chrono::seconds(std::max(cfg.request_timeout_s, cfg.llm_timeout_s) + 60);
  return o;
}

} // namespace pixelcraft::app
