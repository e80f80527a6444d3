#pragma once
/// Calls to the agency's vendors (HubSpot, SendGrid, Google Calendar); implemented by
/// integrations/ (libcurl).
///
/// - Spawned once by app/ (`integrations::spawn_vendor_client`): a router that owns one circuit
///   breaker per service, in front of a few `caf::detached` workers (blocking curl calls on their
///   own threads, so independent tool calls run in parallel). Lives until system shutdown.
/// - Only configured base URLs are called (`CRM_API_URL`, `EMAIL_API_URL`, `CALENDAR_API_URL`),
///   with the configured key as `Authorization: Bearer`; the path comes from our tool code, is
///   checked (absolute, no scheme, no `..`), and redirects are never followed.
/// - Retries with exponential backoff and jitter on 429 (honouring `Retry-After`, capped), 5xx,
///   timeouts and connection errors; never on other 4xx. An `idempotency_key` is sent as the
///   `Idempotency-Key` header on writes.
/// - Request JSON: `{"service": "hubspot"|"sendgrid"|"google_calendar", "method", "path",
///   "body"?, "idempotency_key"?}`. Reply: `{"status", "body" (JSON or null), "attempts"}` for
///   any final HTTP status (4xx included: the caller decides). Errors: `errc::failed_precondition`
///   (service not configured), `errc::unavailable` (circuit open, or retries exhausted:
///   connection/5xx/429), `errc::deadline_exceeded` (timed out), `errc::invalid_argument`.
///   Error texts never contain keys.

#include "actors/fwd.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace pixelcraft {

using vendor_actor = caf::typed_actor<caf::replies_to<vendor_atom, std::string>::with<std::string>,
                                      /// Reply: `{"<service>": {"circuit":
                                      /// "closed"|"open"|"half_open", "consecutive_failures"}}`.
                                      caf::replies_to<vstats_atom>::with<std::string>>;

} // namespace pixelcraft
