#include "actors/health/health_actor.hpp"

#include "actors/errc.hpp"
#include "actors/json_limits.hpp"
#include "actors/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace pixelcraft {

namespace {

using json = nlohmann::json;
using health_impl = health_actor::extend<caf::reacts_to<tick_atom>>;
using clock_type = std::chrono::steady_clock;

constexpr uint32_t probe_timeout_ms = 2500;
constexpr auto request_timeout = std::chrono::milliseconds(3000);

/// Text of an error for the health body: our own message, never a secret.
std::string check_error_text(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return "health check timed out";
  if (err.category() == caf::atom("pixelcraft"))
    return error_text(err);
  return "check failed";
}

struct health_state {
  health_options opts;
  json services = json::object();
  std::vector<vendor_circuit> circuits;
  clock_type::time_point last_done{};
  bool in_flight = false;
  int pending = 0;
  std::vector<caf::response_promise> health_waiters;
  std::vector<caf::typed_response_promise<readiness>> ready_waiters;
  std::vector<caf::typed_response_promise<model_status>> model_waiters;
  model_status models; ///< from `services["ollama"]` after each check
  static inline const char* name = "pixelcraft.health";

  bool db_healthy() const {
    return services.contains("database") && services["database"]["status"] == "healthy";
  }

  std::string health_body() const {
    std::string overall = "healthy";
    if (!db_healthy()) {
      overall = "unhealthy";
    } else {
      for (auto& [name, s] : services.items())
        if (name != "database" && s["status"] == "unhealthy")
          overall = "degraded";
    }
    json body = {
        {"status", overall},
        {"timestamp", log::now_rfc3339()},
        {"version", opts.version},
        {"auth", opts.auth_mode},
        {"services", services},
        {"node", {{"id", opts.node_id}, {"role", "standalone"}, {"peers", json::array()}}},
    };
    return body.dump();
  }

  readiness ready_state() const {
    readiness out;
    if (!db_healthy()) {
      auto& db = services["database"];
      out.reasons.push_back("database: " + db.value("error", std::string{"unavailable"}));
    }
    out.ready = out.reasons.empty();
    return out;
  }
};

using health_pointer = health_impl::stateful_pointer<health_state>;

double elapsed_ms(clock_type::time_point since) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - since).count();
}

void finish_one(health_pointer self) {
  auto& st = self->state;
  if (--st.pending > 0)
    return;
  st.in_flight = false;
  st.last_done = clock_type::now();
  for (const auto& b : st.circuits) {
    if (!st.services.contains(b.service) || st.services[b.service]["status"] == "not_configured")
      continue;
    auto& s = st.services[b.service];
    s["circuit"] = b.circuit;
    if (b.circuit == "open") {
      s["status"] = "unhealthy";
      s["error"] = "circuit open after repeated failures";
    }
  }
  const auto& llm = st.services["ollama"];
  st.models = model_status{};
  st.models.reachable = llm.value("status", std::string{}) == "healthy";
  if (llm.contains("models"))
    for (const auto& m : llm["models"])
      st.models.names.push_back(m.get<std::string>());
  for (auto& rp : st.model_waiters)
    rp.deliver(st.models);
  st.model_waiters.clear();
  auto health = st.health_body();
  auto ready = st.ready_state();
  for (auto& rp : st.health_waiters)
    rp.deliver(health);
  for (auto& rp : st.ready_waiters)
    rp.deliver(ready);
  st.health_waiters.clear();
  st.ready_waiters.clear();
}

/// Probes one HTTP service; `on_ok` turns a 2xx body into extra fields of its status object.
void probe_service(health_pointer self, const std::string& key, probe_actor probe, std::string url,
                   std::string bearer, std::function<void(json&, const std::string&)> on_ok = {}) {
  auto started = clock_type::now();
  self->request(probe, request_timeout, probe_atom_v, std::move(url), std::move(bearer),
                probe_timeout_ms)
      .then(
          [self, key, started, on_ok](int32_t status, const std::string& body) {
            json s = {{"latency_ms", elapsed_ms(started)}};
            if (status >= 200 && status < 300) {
              s["status"] = "healthy";
              if (on_ok)
                on_ok(s, body);
            } else {
              s["status"] = "unhealthy";
              s["error"] = status == 401 || status == 403
                               ? "authentication failed (HTTP " + std::to_string(status) + ")"
                               : "HTTP " + std::to_string(status);
            }
            self->state.services[key] = std::move(s);
            finish_one(self);
          },
          [self, key, started](caf::error& err) {
            self->state.services[key] = {{"status", "unhealthy"},
                                         {"latency_ms", elapsed_ms(started)},
                                         {"error", check_error_text(err)}};
            finish_one(self);
          });
}

void check_all(health_pointer self) {
  auto& st = self->state;
  if (st.in_flight)
    return;
  st.in_flight = true;
  st.pending = 6;
  if (st.opts.vendors) {
    self->request(st.opts.vendors, request_timeout, vstats_atom_v)
        .then(
            [self](std::vector<vendor_circuit>& circuits) {
              self->state.circuits = std::move(circuits);
              finish_one(self);
            },
            [self](caf::error&) { finish_one(self); });
  } else {
    --st.pending;
  }
  // Database.
  auto started = clock_type::now();
  self->request(st.opts.db, request_timeout, ping_atom_v)
      .then(
          [self, started](const db_ping& ping) {
            self->state.services["database"] = {{"status", "healthy"},
                                                {"latency_ms", elapsed_ms(started)},
                                                {"schema_version", ping.schema_version}};
            finish_one(self);
          },
          [self, started](caf::error& err) {
            self->state.services["database"] = {{"status", "unhealthy"},
                                                {"latency_ms", elapsed_ms(started)},
                                                {"error", check_error_text(err)}};
            finish_one(self);
          });
  // Model server.
  auto models = [](std::string list_key, std::string name_key) {
    return [list_key, name_key](json& s, const std::string& body) {
      auto parsed = parse_json(body);
      json names = json::array();
      if (parsed.is_object() && parsed.contains(list_key) && parsed[list_key].is_array())
        for (auto& m : parsed[list_key])
          if (m.is_object() && m.contains(name_key) && m[name_key].is_string())
            names.push_back(m[name_key]);
      s["models"] = names;
    };
  };
  const auto& o = st.opts;
  probe_service(self, "ollama", o.llm_probe, o.model.url, o.model.key,
                models(o.model.list_key, o.model.name_key));
  // Integrations: only when configured.
  auto check = [self](const char* service, probe_actor probe, const health_target& t) {
    if (t.url.empty()) {
      self->state.services[service] = {{"status", "not_configured"}};
      finish_one(self);
    } else {
      probe_service(self, service, std::move(probe), t.url, t.key);
    }
  };
  check("hubspot", o.crm_probe, o.crm);
  check("sendgrid", o.email_probe, o.email);
  check("google_calendar", o.calendar_probe, o.calendar);
}

health_impl::behavior_type health_fn(health_pointer self, health_options opts) {
  self->state.opts = std::move(opts);
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    for (auto& rp : st.health_waiters)
      rp.deliver(st.health_body());
    for (auto& rp : st.ready_waiters)
      rp.deliver(st.ready_state());
    for (auto& rp : st.model_waiters)
      rp.deliver(st.models);
    self->quit(em.reason);
  });
  for (auto key : {"database", "ollama", "hubspot", "sendgrid", "google_calendar"})
    self->state.services[key] = {{"status", "unhealthy"}, {"error", "not checked yet"}};
  self->send(self, tick_atom_v);
  auto fresh = [self] {
    auto& st = self->state;
    return !st.in_flight && st.last_done != clock_type::time_point{} &&
           clock_type::now() - st.last_done < std::chrono::seconds(1);
  };
  return {
      [self, fresh](health_atom) -> caf::result<std::string> {
        if (fresh())
          return self->state.health_body();
        auto rp = self->make_response_promise();
        self->state.health_waiters.push_back(rp);
        check_all(self);
        return caf::delegated<std::string>{};
      },
      [self, fresh](ready_atom) -> caf::result<readiness> {
        if (fresh())
          return self->state.ready_state();
        auto rp = self->make_response_promise<readiness>();
        self->state.ready_waiters.push_back(rp);
        check_all(self);
        return rp;
      },
      [self](models_atom) -> caf::result<model_status> {
        if (self->state.last_done != clock_type::time_point{})
          return self->state.models;
        auto rp = self->make_response_promise<model_status>();
        self->state.model_waiters.push_back(rp);
        check_all(self);
        return rp;
      },
      [self](tick_atom) {
        check_all(self);
        // While the database is down, probe faster so recovery (and migration) is prompt.
        auto every = self->state.db_healthy() ? std::chrono::seconds(self->state.opts.interval_s)
                                              : std::chrono::seconds(2);
        self->delayed_send(self, every, tick_atom_v);
      },
  };
}

} // namespace

health_actor spawn_health(caf::actor_system& sys, health_options opts) {
  return sys.spawn(health_fn, std::move(opts));
}

} // namespace pixelcraft
