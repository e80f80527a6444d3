#pragma once
/// Calls to the agency's vendors (HubSpot, SendGrid, Google Calendar); implemented by
/// integrations/ (libcurl).
///
/// - Spawned once by app/ (`integrations::spawn_vendor_client`): a router that owns one circuit
///   breaker per service, in front of a few `caf::detached` workers (blocking curl calls on their
///   own threads, so independent tool calls run in parallel). Lives until system shutdown.
/// - Takes the agency's vendor tools as typed calls (`vendor_call`): the request shapes and the
///   steps of each tool (integrations/vendor_tools.hpp) live behind this interface; the tool
///   actor (actors/agents/) decides whether a call may run and sends only those.
/// - Only configured base URLs are called (`CRM_API_URL`, `EMAIL_API_URL`, `CALENDAR_API_URL`),
///   with the configured key as `Authorization: Bearer`; paths come from our tool code, are
///   checked (absolute, no scheme, no `..`), and redirects are never followed.
/// - Retries with exponential backoff and jitter on 429 (honouring `Retry-After`, capped), 5xx,
///   timeouts and connection errors; never on other 4xx. Writes carry an `Idempotency-Key` made
///   from the call's `execution_id`, the method and the path.
/// - Errors: `errc::failed_precondition` (service not configured), `errc::unavailable` (circuit
///   open, or retries exhausted: connection/5xx/429), `errc::deadline_exceeded` (timed out),
///   `errc::invalid_argument` (not a vendor tool). A vendor's refusal (another 4xx) is not an
///   error but an outcome with status `error`. Error texts never contain keys.
/// - Callers wait `vendor_tool_budget` (below): every HTTP call of the longest tool at its worst.

#include "actors/fwd.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// The longest `Retry-After` a 429 is honoured for (longer ones are capped).
inline constexpr unsigned vendor_max_retry_after_s = 10;

/// The longest one HTTP call to a vendor can take: every attempt times out (plus a second of
/// connection set-up), every backoff is the longest (with its jitter) and every 429 asks for the
/// longest `Retry-After`.
inline std::chrono::milliseconds vendor_http_budget(unsigned timeout_ms, unsigned retries,
                                                    unsigned backoff_ms) {
  using ms = std::chrono::milliseconds;
  return ms(uint64_t{timeout_ms + 1000u} * (retries + 1u)) +
         ms((uint64_t{backoff_ms} << std::min(retries, 20u)) * 2u) +
         std::chrono::seconds(uint64_t{vendor_max_retry_after_s} * retries);
}

/// The longest vendor tool is four HTTP calls (HubSpot: contact, search, update, deal). Callers
/// of `vendor_atom` wait this: the vendor client always answers first.
inline std::chrono::milliseconds vendor_tool_budget(unsigned timeout_ms, unsigned retries,
                                                    unsigned backoff_ms) {
  return 4 * vendor_http_budget(timeout_ms, retries, backoff_ms) + std::chrono::seconds(5);
}

/// One vendor tool call the tool actor allowed.
struct vendor_call {
  std::string tool;             ///< create_project_lead, send_marketing_proposal, ...
  std::string arguments = "{}"; ///< JSON object text, valid against the tool's schema
  /// The call's id: vendor idempotency keys and calendar event ids derive from it, so a call
  /// sent again (a journaled step after a crash) cannot act twice where the vendor dedupes.
  std::string execution_id;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, vendor_call& x) {
  return f(caf::meta::type_name("pixelcraft::vendor_call"), x.tool, x.arguments, x.execution_id);
}

/// How a vendor tool call ended.
struct vendor_outcome {
  std::string status;        ///< `success`, or `error` (the vendor refused; see `result`)
  std::string result = "{}"; ///< the tool's result for the model, JSON object text
  std::string error;         ///< a short reason for the log; empty on success
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vendor_outcome& x) {
  return f(caf::meta::type_name("pixelcraft::vendor_outcome"), x.status, x.result, x.error);
}

/// One vendor's circuit breaker, as the health checks report it (API.md §10).
struct vendor_circuit {
  std::string service; ///< hubspot, sendgrid or google_calendar
  std::string circuit; ///< closed, open or half_open
  int32_t consecutive_failures = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vendor_circuit& x) {
  return f(caf::meta::type_name("pixelcraft::vendor_circuit"), x.service, x.circuit,
           x.consecutive_failures);
}

using vendor_actor = caf::typed_actor<
    /// Runs a vendor tool. Reply: its outcome.
    caf::replies_to<vendor_atom, vendor_call>::with<vendor_outcome>,
    /// Reply: each vendor's circuit.
    caf::replies_to<vstats_atom>::with<std::vector<vendor_circuit>>>;

} // namespace pixelcraft
