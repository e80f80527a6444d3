#pragma once
/// Live health of the node and its dependencies (API.md §3).
///
/// - Spawned by app/ once; lives until the system shuts down. Event-based, never blocks.
/// - Re-checks every service every `interval_s` (<= 30 s) in the background and on demand: a
///   request for health triggers a fresh check unless one finished less than a second ago;
///   concurrent requests share one check. Each check is bounded (about 3 s).
/// - Database: `db_actor` ping (which also reconnects and migrates). Ollama: `GET /api/tags`
///   (or `GET /v1/models` for an OpenAI-compatible provider). HubSpot, SendGrid and Google
///   Calendar: one cheap authenticated read each, only when configured (else `not_configured`);
///   a configured integration whose circuit breaker is open reports `unhealthy` with
///   `"circuit": "open"`.

#include "actors/db_actor.hpp"
#include "actors/messages.hpp"
#include "actors/probe_actor.hpp"
#include "actors/vendor_actor.hpp"

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>
#include <vector>

namespace pixelcraft {

/// Whether this node takes traffic (`ready_atom`, API.md §3 `/health/ready`).
struct readiness {
  bool ready = false;
  std::vector<std::string> reasons; ///< why not; empty when ready
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, readiness& x) {
  return f(caf::meta::type_name("pixelcraft::readiness"), x.ready, x.reasons);
}

using health_actor = caf::typed_actor<
    /// Reply: the `/health` body (API.md §3) as JSON text.
    caf::replies_to<health_atom>::with<std::string>, caf::replies_to<ready_atom>::with<readiness>,
    /// The model server from the last completed check (waits for the first one). Callers: 5 s.
    caf::replies_to<models_atom>::with<model_status>>;

/// One dependency checked with an authenticated `GET` (integrations/ builds them from its own
/// settings: `integrations::health_targets`, so vendor URL shapes stay there).
struct health_target {
  std::string url; ///< empty: not configured (reported `not_configured`)
  std::string key; ///< `Authorization: Bearer` value; may be empty
  /// For the model server: where the reply lists model names (`models`/`name` for Ollama,
  /// `data`/`id` for OpenAI-compatible servers).
  std::string list_key;
  std::string name_key;
};

struct health_options {
  health_target model; ///< always configured
  health_target crm;
  health_target email;
  health_target calendar;
  unsigned interval_s = 15; ///< background re-check period (`HEALTH_INTERVAL_S`, <= 30)
  db_actor db;
  probe_actor llm_probe;
  probe_actor crm_probe;
  probe_actor email_probe;
  probe_actor calendar_probe;
  vendor_actor vendors; ///< circuit breaker states (may be invalid)
  std::string version;
  std::string auth_mode; ///< `configured` or `ephemeral`
  std::string node_id;
};

health_actor spawn_health(caf::actor_system& sys, health_options opts);

} // namespace pixelcraft
