#include "app/config.hpp"

#include "actors/log.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace pixelcraft {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool parse_uint(const std::string& text, uint64_t lo, uint64_t hi, uint64_t& out) {
  if (text.empty() || text.size() > 19)
    return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v < lo || v > hi)
    return false;
  out = v;
  return true;
}

} // namespace

bool parse_base_url(const std::string& raw, base_url& out, std::string& why) {
  auto text = trim(raw);
  auto sep = text.find("://");
  if (sep == std::string::npos) {
    why = "expected scheme://host[:port]";
    return false;
  }
  base_url u;
  u.scheme = text.substr(0, sep);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (u.scheme != "http" && u.scheme != "https") {
    why = "scheme must be http or https";
    return false;
  }
  auto rest = text.substr(sep + 3);
  while (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  if (rest.find_first_of("/?#@ ") != std::string::npos) {
    why = "expected scheme://host[:port] without path, query or credentials";
    return false;
  }
  std::string host = rest;
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') { // IPv6 literal
    auto close = rest.find(']');
    if (close == std::string::npos) {
      why = "unterminated IPv6 literal";
      return false;
    }
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        why = "junk after IPv6 literal";
        return false;
      }
      port_text = rest.substr(close + 2);
    }
  } else if (auto colon = rest.find(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  if (host.empty()) {
    why = "missing host";
    return false;
  }
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
          c == '[' || c == ']' || c == ':')) {
      why = "invalid character in host";
      return false;
    }
  }
  uint64_t port = u.scheme == "https" ? 443 : 80;
  if (!port_text.empty() && !parse_uint(port_text, 1, 65535, port)) {
    why = "port must be 1..65535";
    return false;
  }
  u.host = host;
  u.port = static_cast<uint16_t>(port);
  u.text = u.scheme + "://" + host + (port_text.empty() ? "" : ":" + port_text);
  out = std::move(u);
  return true;
}

std::map<std::string, std::string> parse_dotenv(const std::string& text,
                                                std::vector<int>* bad_lines) {
  std::map<std::string, std::string> out;
  std::istringstream in{text};
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    auto t = trim(line);
    if (t.empty() || t[0] == '#')
      continue;
    if (t.rfind("export ", 0) == 0)
      t = trim(t.substr(7));
    auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      if (bad_lines)
        bad_lines->push_back(no);
      continue;
    }
    auto key = trim(t.substr(0, eq));
    auto val = trim(t.substr(eq + 1));
    bool valid_key = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '_';
    });
    if (!valid_key) {
      if (bad_lines)
        bad_lines->push_back(no);
      continue;
    }
    if (val.size() >= 2 && (val.front() == '"' || val.front() == '\'') &&
        val.back() == val.front()) {
      val = val.substr(1, val.size() - 2);
    } else if (auto hash = val.find(" #"); hash != std::string::npos) {
      val = trim(val.substr(0, hash));
    }
    out[key] = val;
  }
  return out;
}

bool node_name_ok(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char ch) {
           return std::isalnum(ch) || ch == '.' || ch == '_' || ch == '-';
         });
}

config_result load_config(const std::map<std::string, std::string>& vars) {
  config_result r;
  config& c = r.value;
  auto get = [&](const char* k) -> std::string {
    auto i = vars.find(k);
    return i == vars.end() ? std::string{} : trim(i->second);
  };
  auto fail = [&](const std::string& var, const std::string& why) {
    r.ok = false;
    r.error = var + ": " + why;
    return r;
  };
  auto num = [&](const char* var, uint64_t lo, uint64_t hi, auto& field) -> bool {
    auto v = get(var);
    if (v.empty())
      return true;
    uint64_t x = 0;
    if (!parse_uint(v, lo, hi, x))
      return false;
    field = static_cast<std::remove_reference_t<decltype(field)>>(x);
    return true;
  };
  auto url = [&](const char* var, const char* def, base_url& field, std::string& why) -> bool {
    auto v = get(var);
    return parse_base_url(v.empty() ? std::string{def} : v, field, why);
  };

  if (auto v = get("APP_HOST"); !v.empty())
    c.app_host = v;
  if (!num("APP_PORT", 0, 65535, c.app_port)) // 0: any free port
    return fail("APP_PORT", "must be an integer 0..65535");
  c.database_url = get("DATABASE_URL");
  if (!c.database_url.empty()) {
    bool uri = c.database_url.rfind("postgres://", 0) == 0 ||
               c.database_url.rfind("postgresql://", 0) == 0;
    bool kv = c.database_url.find('=') != std::string::npos;
    if (!uri && !kv)
      return fail("DATABASE_URL", "expected postgres[ql]://... or key=value connection string");
  }
  c.jwt_secret = get("SUPABASE_JWT_SECRET");
  if (auto v = get("JWT_AUDIENCE"); !v.empty())
    c.jwt_audience = v;
  if (auto v = get("LLM_PROVIDER"); !v.empty()) {
    if (v != "ollama" && v != "openai")
      return fail("LLM_PROVIDER", "must be ollama or openai");
    c.llm_provider = v;
  }
  std::string why;
  if (!url("OLLAMA_HOST", "http://localhost:11434", c.ollama_host, why))
    return fail("OLLAMA_HOST", why);
  if (auto v = get("OLLAMA_MODEL"); !v.empty())
    c.ollama_model = v;
  if (!url("OPENAI_BASE_URL", "http://localhost:8080", c.openai_base_url, why))
    return fail("OPENAI_BASE_URL", why);
  c.openai_api_key = get("OPENAI_API_KEY");
  c.crm_api_key = get("CRM_API_KEY");
  if (!url("CRM_API_URL", "https://api.hubapi.com", c.crm_api_url, why))
    return fail("CRM_API_URL", why);
  c.email_api_key = get("EMAIL_API_KEY");
  if (!url("EMAIL_API_URL", "https://api.sendgrid.com", c.email_api_url, why))
    return fail("EMAIL_API_URL", why);
  if (auto v = get("EMAIL_FROM"); !v.empty())
    c.email_from = v;
  c.email_notify_to = get("EMAIL_NOTIFY_TO");
  if (c.email_notify_to.empty())
    c.email_notify_to = c.email_from;
  c.calendar_api_key = get("CALENDAR_API_KEY");
  if (!url("CALENDAR_API_URL", "https://www.googleapis.com", c.calendar_api_url, why))
    return fail("CALENDAR_API_URL", why);
  c.calendar_id = get("CALENDAR_ID");
#ifdef PIXELCRAFT_DEFAULT_WEB_DIR
  c.web_dir = PIXELCRAFT_DEFAULT_WEB_DIR;
#endif
  if (auto v = get("PIXELCRAFT_WEB_DIR"); !v.empty())
    c.web_dir = v;
  c.assets_dir = get("PIXELCRAFT_ASSETS_DIR");
  if (auto v = get("CORS_ORIGINS"); !v.empty()) {
    std::istringstream in{v};
    std::string item;
    while (std::getline(in, item, ',')) {
      item = trim(item);
      while (!item.empty() && item.back() == '/')
        item.pop_back();
      if (item.empty())
        continue;
      if (item != "*") {
        base_url parsed;
        if (!parse_base_url(item, parsed, why))
          return fail("CORS_ORIGINS", "'" + item + "': " + why);
      }
      c.cors_origins.push_back(item);
    }
  }
  if (auto v = get("LOG_LEVEL"); !v.empty()) {
    log::level lvl;
    if (!log::parse_level(v, lvl))
      return fail("LOG_LEVEL", "must be debug, info, warn or error");
    c.log_level = v;
  }
  if (!num("MAX_BODY_BYTES", 1024, 256ull << 20, c.max_body_bytes))
    return fail("MAX_BODY_BYTES", "must be an integer 1024..268435456");
  if (!num("MAX_HEADER_BYTES", 1024, 1 << 20, c.max_header_bytes))
    return fail("MAX_HEADER_BYTES", "must be an integer 1024..1048576");
  if (!num("MAX_CONNECTIONS", 16, 1000000, c.max_connections))
    return fail("MAX_CONNECTIONS", "must be an integer 16..1000000");
  if (!num("MAX_CONNECTIONS_PER_CLIENT", 1, 1000000, c.max_connections_per_client))
    return fail("MAX_CONNECTIONS_PER_CLIENT", "must be an integer 1..1000000");
  if (!num("HEADER_TIMEOUT_S", 1, 3600, c.header_timeout_s))
    return fail("HEADER_TIMEOUT_S", "must be an integer 1..3600");
  if (!num("DB_POOL_SIZE", 1, 64, c.db_pool_size))
    return fail("DB_POOL_SIZE", "must be an integer 1..64");
  if (!num("DB_TIMEOUT_MS", 100, 600000, c.db_timeout_ms))
    return fail("DB_TIMEOUT_MS", "must be an integer 100..600000");
  if (!num("REQUEST_TIMEOUT_S", 1, 3600, c.request_timeout_s))
    return fail("REQUEST_TIMEOUT_S", "must be an integer 1..3600");
  if (!num("HEALTH_INTERVAL_S", 1, 30, c.health_interval_s))
    return fail("HEALTH_INTERVAL_S", "must be an integer 1..30");
  if (!num("RATE_LIMIT_PER_MINUTE", 1, 1000000, c.rate_limit_per_minute))
    return fail("RATE_LIMIT_PER_MINUTE", "must be an integer 1..1000000");
  if (!num("RATE_LIMIT_BURST", 1, 1000000, c.rate_limit_burst))
    return fail("RATE_LIMIT_BURST", "must be an integer 1..1000000");
  if (!num("IDEMPOTENCY_TTL_HOURS", 24, 24 * 365, c.idempotency_ttl_hours))
    return fail("IDEMPOTENCY_TTL_HOURS", "must be an integer 24..8760");
  if (!num("LLM_TIMEOUT_S", 1, 3600, c.llm_timeout_s))
    return fail("LLM_TIMEOUT_S", "must be an integer 1..3600");
  if (!num("LLM_STALL_TIMEOUT_S", 1, 3600, c.llm_stall_timeout_s))
    return fail("LLM_STALL_TIMEOUT_S", "must be an integer 1..3600");
  if (!num("LLM_CONNECT_TIMEOUT_S", 1, 60, c.llm_connect_timeout_s))
    return fail("LLM_CONNECT_TIMEOUT_S", "must be an integer 1..60");
  if (!num("LLM_MAX_CONCURRENCY", 1, 1024, c.llm_max_concurrency))
    return fail("LLM_MAX_CONCURRENCY", "must be an integer 1..1024");
  if (!num("LLM_QUEUE_LIMIT", 0, 100000, c.llm_queue_limit))
    return fail("LLM_QUEUE_LIMIT", "must be an integer 0..100000");
  if (!num("LLM_RETRIES", 0, 10, c.llm_retries))
    return fail("LLM_RETRIES", "must be an integer 0..10");
  if (auto v = get("LLM_KEEP_ALIVE"); !v.empty())
    c.llm_keep_alive = v;
  if (!num("HISTORY_TURNS", 0, 200, c.history_turns))
    return fail("HISTORY_TURNS", "must be an integer 0..200");
  c.agents_file = get("AGENTS_FILE");
  if (!num("AGENT_IDLE_S", 1, 86400, c.agent_idle_s))
    return fail("AGENT_IDLE_S", "must be an integer 1..86400");
  if (auto v = get("SCHEDULER_POLICY"); !v.empty()) {
    if (v != "sharing" && v != "stealing")
      return fail("SCHEDULER_POLICY", "must be sharing or stealing");
    c.scheduler_policy = v;
  }
  if (!num("VENDOR_TIMEOUT_MS", 100, 600000, c.vendor_timeout_ms))
    return fail("VENDOR_TIMEOUT_MS", "must be an integer 100..600000");
  if (!num("VENDOR_RETRIES", 0, 10, c.vendor_retries))
    return fail("VENDOR_RETRIES", "must be an integer 0..10");
  if (!num("VENDOR_BACKOFF_MS", 1, 60000, c.vendor_backoff_ms))
    return fail("VENDOR_BACKOFF_MS", "must be an integer 1..60000");
  if (!num("BREAKER_FAILURES", 1, 1000, c.breaker_failures))
    return fail("BREAKER_FAILURES", "must be an integer 1..1000");
  if (!num("BREAKER_OPEN_S", 1, 3600, c.breaker_open_s))
    return fail("BREAKER_OPEN_S", "must be an integer 1..3600");
  if (!num("TOOL_ROUNDS", 1, 10, c.tool_rounds))
    return fail("TOOL_ROUNDS", "must be an integer 1..10");
  if (!num("TOOL_BUDGET_PER_TURN", 0, 100, c.tool_budget_per_turn))
    return fail("TOOL_BUDGET_PER_TURN", "must be an integer 0..100");
  if (!num("TOOL_BUDGET_ANON_PER_HOUR", 0, 100000, c.tool_budget_anon_per_hour))
    return fail("TOOL_BUDGET_ANON_PER_HOUR", "must be an integer 0..100000");
  if (!num("APPROVAL_TTL_S", 1, 31536000, c.approval_ttl_s))
    return fail("APPROVAL_TTL_S", "must be an integer 1..31536000");
  {
    std::string why;
    auto parsed = parse_tool_policy(get("TOOL_POLICY"), why);
    if (!parsed)
      return fail("TOOL_POLICY", why);
    c.tool_policy = std::move(*parsed);
  }
  if (!num("WORKFLOW_LEASE_S", 2, 3600, c.workflow_lease_s))
    return fail("WORKFLOW_LEASE_S", "must be an integer 2..3600");
  if (!num("MONITOR_BACKLOG_KIB", 16, 1048576, c.monitor_backlog_kib))
    return fail("MONITOR_BACKLOG_KIB", "must be an integer 16..1048576");
  if (c.llm_provider == "openai" && get("OPENAI_BASE_URL").empty())
    return fail("OPENAI_BASE_URL", "required when LLM_PROVIDER=openai");

  c.node_name = get("NODE_NAME");
  if (!c.node_name.empty() && !node_name_ok(c.node_name))
    return fail("NODE_NAME", "must be 1..64 of A-Z a-z 0-9 . _ -");
  if (!num("CLUSTER_PORT", 1, 65535, c.cluster_port))
    return fail("CLUSTER_PORT", "must be an integer 1..65535");
  if (!num("WORKER_HEALTH_PORT", 0, 65535, c.worker_health_port)) // 0: any free port
    return fail("WORKER_HEALTH_PORT", "must be an integer 0..65535");
  c.cluster_tls_cert = get("CLUSTER_TLS_CERT");
  c.cluster_tls_key = get("CLUSTER_TLS_KEY");
  c.cluster_tls_ca = get("CLUSTER_TLS_CA");
  c.cluster_tls_passphrase = get("CLUSTER_TLS_PASSPHRASE");
  if (auto v = get("CLUSTER_ADVERTISE"); !v.empty()) {
    auto colon = v.rfind(':');
    uint64_t port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !parse_uint(v.substr(colon + 1), 1, 65535, port))
      return fail("CLUSTER_ADVERTISE", "must be host:port");
    c.cluster_host = v.substr(0, colon);
    c.cluster_adv_port = static_cast<unsigned>(port);
  }
  if (c.cluster_port != 0) {
    // There is no plaintext cluster traffic: a listener needs all three files.
    for (auto [var, value] : {std::pair{"CLUSTER_TLS_CERT", &c.cluster_tls_cert},
                              std::pair{"CLUSTER_TLS_KEY", &c.cluster_tls_key},
                              std::pair{"CLUSTER_TLS_CA", &c.cluster_tls_ca}})
      if (value->empty())
        return fail(var, "required with CLUSTER_PORT (mutual TLS only)");
    if (c.cluster_adv_port == 0)
      c.cluster_adv_port = c.cluster_port;
  } else if (!c.cluster_host.empty()) {
    return fail("CLUSTER_ADVERTISE", "needs CLUSTER_PORT");
  }
  r.ok = true;
  return r;
}

} // namespace pixelcraft
