#include "integrations/vendor_client.hpp"

#include "actors/errc.hpp"
#include "actors/json_limits.hpp"
#include "actors/log.hpp"
#include "integrations/vendor_tools.hpp"

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <thread>

// One HTTP call between the router and its workers: local only (never crosses nodes).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pixelcraft::integrations::http_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(pixelcraft::integrations::http_reply)

namespace pixelcraft::integrations {

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
constexpr const char* component = "pixelcraft.vendors";
constexpr size_t max_body = 1 << 20;
constexpr long max_retry_after_s = vendor_max_retry_after_s;

struct target {
  std::string base;
  std::string key;
};

/// The configured base URL and key of a service; the key is empty when it is not configured.
bool service_target(const vendor_options& cfg, const std::string& service, target& out) {
  if (service == "hubspot")
    out = {cfg.crm.url, cfg.crm.key};
  else if (service == "sendgrid")
    out = {cfg.email.url, cfg.email.key};
  else if (service == "google_calendar")
    out = {cfg.calendar.url, cfg.calendar_id.empty() ? "" : cfg.calendar.key};
  else
    return false;
  return true;
}

bool safe_path(const std::string& p) {
  return !p.empty() && p[0] == '/' && p.find("://") == std::string::npos &&
         p.find("..") == std::string::npos && p.find_first_of(" \r\n\t#@\\") == std::string::npos;
}

struct response {
  CURLcode rc = CURLE_OK;
  long status = 0;
  std::string body;
  long retry_after = -1;
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
  auto* r = static_cast<response*>(user);
  if (r->body.size() + size * n > max_body)
    return 0;
  r->body.append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  auto* r = static_cast<response*>(user);
  std::string line(p, size * n);
  if (line.size() > 12 && strncasecmp(line.c_str(), "retry-after:", 12) == 0)
    r->retry_after = std::atol(line.c_str() + 12);
  return size * n;
}

response perform(const vendor_options& cfg, const std::string& method, const std::string& url,
                 const std::string& key, const std::string& body, const std::string& idem) {
  response r;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h{curl_easy_init(), &curl_easy_cleanup};
  curl_slist* hs = nullptr;
  auto auth = "Authorization: Bearer " + key;
  hs = curl_slist_append(hs, auth.c_str());
  hs = curl_slist_append(hs, "Accept: application/json");
  if (!body.empty())
    hs = curl_slist_append(hs, "Content-Type: application/json");
  std::string idem_header;
  if (!idem.empty() && method != "GET") {
    idem_header = "Idempotency-Key: " + idem;
    hs = curl_slist_append(hs, idem_header.c_str());
  }
  hs = curl_slist_append(hs, "Expect:");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> guard{hs, &curl_slist_free_all};
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) {
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(cfg.timeout_ms, 5000u)));
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(cfg.timeout_ms));
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(h.get(), CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h.get(), CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(h.get(), CURLOPT_USERAGENT, "pixelcraft/1");
  r.rc = curl_easy_perform(h.get());
  if (r.rc == CURLE_OK)
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

bool retryable_transport(CURLcode rc) {
  return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT ||
         rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
         rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE;
}

/// A worker: one HTTP call at a time (local only: the router's own helpers).
using worker_actor =
    caf::typed_actor<caf::replies_to<vendor_http_atom, http_request>::with<http_reply>>;

/// One worker: a blocking call with retries, on its own (detached) thread.
worker_actor::behavior_type worker(worker_actor::pointer self, vendor_options cfg) {
  auto rng = std::make_shared<std::mt19937>(std::random_device{}());
  return {
      [cfg, rng](vendor_http_atom, const http_request& req) -> caf::result<http_reply> {
        const auto& service = req.service;
        target t;
        if (!service_target(cfg, service, t))
          return caf::make_error(errc::invalid_argument, "unknown service");
        if (t.key.empty())
          return caf::make_error(errc::failed_precondition, "not_configured");
        const auto& path = req.path;
        const auto& method = req.method;
        if (!safe_path(path) || (method != "GET" && method != "POST" && method != "PATCH" &&
                                 method != "PUT" && method != "DELETE"))
          return caf::make_error(errc::invalid_argument, "refused vendor path or method");
        const auto& body = req.body;
        const auto& idem = req.idempotency_key;
        response r;
        unsigned attempt = 0;
        for (;; ++attempt) {
          auto started = clock_type::now();
          r = perform(cfg, method, t.base + path, t.key, body, idem);
          auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
          log::info(component, "vendor call",
                    {{"service", service},
                     {"method", method},
                     {"status", static_cast<int64_t>(r.status)},
                     {"latency_ms", ms},
                     {"attempt", attempt + 1}});
          bool retry = (r.rc == CURLE_OK && (r.status == 429 || r.status >= 500)) ||
                       (r.rc != CURLE_OK && retryable_transport(r.rc));
          if (!retry || attempt >= cfg.retries)
            break;
          auto backoff = std::chrono::milliseconds(cfg.backoff_ms << attempt);
          backoff += std::chrono::milliseconds((*rng)() % (cfg.backoff_ms / 2 + 1));
          if (r.status == 429 && r.retry_after >= 0)
            backoff = std::max<std::chrono::milliseconds>(
                backoff, std::chrono::seconds(std::min(r.retry_after, max_retry_after_s)));
          // Blocks only this detached worker's thread.
          std::this_thread::sleep_for(backoff);
        }
        if (r.rc == CURLE_OPERATION_TIMEDOUT)
          return caf::make_error(errc::deadline_exceeded, service + " timed out after " +
                                                              std::to_string(attempt + 1) +
                                                              " attempt(s)");
        if (r.rc != CURLE_OK)
          return caf::make_error(errc::unavailable,
                                 service + " unreachable: " + curl_easy_strerror(r.rc));
        if (r.status == 429 || r.status >= 500)
          return caf::make_error(errc::unavailable,
                                 service + " answered HTTP " + std::to_string(r.status) +
                                     " after " + std::to_string(attempt + 1) + " attempt(s)");
        auto parsed = parse_json(r.body); // the vendor's body: hostile, depth-limited
        http_reply out;
        out.status = static_cast<int>(r.status);
        out.body = parsed.is_discarded() ? json(nullptr) : std::move(parsed);
        out.attempts = static_cast<int>(attempt + 1);
        return out;
      },
  };
}

struct breaker {
  unsigned failures = 0;
  clock_type::time_point open_until{};
  bool trial_in_flight = false;
};

struct router_state {
  vendor_options cfg;
  std::vector<worker_actor> workers;
  size_t next = 0;
  std::map<std::string, breaker> breakers;
  static inline const char* name = "pixelcraft.vendor-client";
};

using router_pointer = vendor_actor::stateful_pointer<router_state>;

const char* circuit_of(const breaker& b, const vendor_options& cfg) {
  if (b.failures < cfg.breaker_failures)
    return "closed";
  return clock_type::now() < b.open_until ? "open" : "half_open";
}

/// One HTTP call through its service's circuit breaker and a worker: `next` with the reply, or
/// `fail` with the error (circuit open, timeout, retries exhausted, not configured).
void send_http(router_pointer self, http_request req, std::function<void(http_reply)> next,
               std::function<void(caf::error)> fail) {
  auto& st = self->state;
  auto service = req.service;
  auto& b = st.breakers[service];
  auto circuit = std::string{circuit_of(b, st.cfg)};
  if (circuit == "open" || (circuit == "half_open" && b.trial_in_flight))
    return fail(caf::make_error(errc::unavailable, "circuit open for " + service));
  if (circuit == "half_open")
    b.trial_in_flight = true;
  auto budget = vendor_http_budget(st.cfg.timeout_ms, st.cfg.retries, st.cfg.backoff_ms);
  auto& w = st.workers[st.next++ % st.workers.size()];
  self->request(w, budget, vendor_http_atom_v, std::move(req))
      .then(
          [self, service, next](http_reply& reply) {
            auto& b = self->state.breakers[service];
            b.failures = 0;
            b.trial_in_flight = false;
            next(std::move(reply));
          },
          [self, service, fail](caf::error& err) {
            auto& st = self->state;
            auto& b = st.breakers[service];
            b.trial_in_flight = false;
            bool counts = err == caf::sec::request_timeout || err == errc::unavailable ||
                          err == errc::deadline_exceeded;
            if (counts && ++b.failures >= st.cfg.breaker_failures) {
              b.open_until = clock_type::now() + std::chrono::seconds(st.cfg.breaker_open_s);
              log::warn(component, "circuit opened", {{"service", service}});
            }
            fail(std::move(err));
          });
}

vendor_actor::behavior_type router(router_pointer self, vendor_options cfg, unsigned n) {
  self->state.cfg = cfg;
  for (unsigned i = 0; i < std::max(1u, n); ++i)
    self->state.workers.push_back(self->spawn<caf::detached + caf::linked>(worker, cfg));
  return {
      [self](vendor_atom, vendor_call& call) -> caf::result<vendor_outcome> {
        auto& st = self->state;
        if (!is_vendor_tool(call.tool))
          return caf::make_error(errc::invalid_argument, "not a vendor tool");
        auto rp = self->make_response_promise<vendor_outcome>();
        // A failed HTTP call ends the tool: its caller gets the error.
        http_fn http = [self, rp](http_request req, std::function<void(http_reply)> next) mutable {
          send_http(self, std::move(req), std::move(next),
                    [rp](caf::error err) mutable { rp.deliver(std::move(err)); });
        };
        tool_vendor_settings tools{st.cfg.calendar_id, st.cfg.email_from, st.cfg.email_notify_to};
        run_vendor_tool(call, tools, http,
                        [rp](vendor_outcome out) mutable { rp.deliver(std::move(out)); });
        return rp;
      },
      [self](vstats_atom) {
        std::vector<vendor_circuit> out;
        for (auto service : {"hubspot", "sendgrid", "google_calendar"}) {
          auto& b = self->state.breakers[service];
          out.push_back({service, circuit_of(b, self->state.cfg),
                         static_cast<int32_t>(std::min<unsigned>(b.failures, INT32_MAX))});
        }
        return out;
      },
  };
}

} // namespace

vendor_actor spawn_vendor_client(caf::actor_system& sys, const vendor_options& cfg,
                                 unsigned workers) {
  return sys.spawn(router, cfg, workers);
}

} // namespace pixelcraft::integrations
