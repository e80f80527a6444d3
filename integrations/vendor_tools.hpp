#pragma once
/// The agency's vendor-backed tools as vendor requests (API.md §9): HubSpot contacts and deals,
/// SendGrid e-mail, Google Calendar meetings. The request shapes, the steps of each tool (a
/// duplicate contact is found and updated; a booking checks free/busy first, and reads back
/// the event an earlier attempt of the same call created) and the results for the model live
/// here. Whether a call may run at all is the tool actor's decision (actors/agents/); the
/// vendor client's router (vendor_client.cpp) makes the HTTP calls (breaker, retries).

#include "actors/vendor_actor.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace pixelcraft::integrations {

/// One HTTP call to a configured vendor (the base URL and key come from the configuration).
struct http_request {
  std::string service; ///< hubspot, sendgrid, google_calendar
  std::string method;
  std::string path;            ///< absolute, from our code (checked again before it is sent)
  std::string body;            ///< JSON text; empty: none
  std::string idempotency_key; ///< sent as `Idempotency-Key`
};

/// Its answer: any final HTTP status (4xx included: the tool decides).
struct http_reply {
  int status = 0;
  nlohmann::json body; ///< null when the body was not JSON
  int attempts = 0;
};

/// What the tools need of the configuration.
struct tool_vendor_settings {
  std::string calendar_id;     ///< `CALENDAR_ID`
  std::string email_from;      ///< `EMAIL_FROM`
  std::string email_notify_to; ///< `EMAIL_NOTIFY_TO`
};

/// Makes one call and continues with its reply. A call that fails (timeout, circuit open,
/// retries exhausted) ends the tool there: `http` answers the tool's caller with the error
/// and never calls `next`.
using http_fn = std::function<void(http_request, std::function<void(http_reply)> next)>;

/// Whether `tool` is one of the vendor tools below.
bool is_vendor_tool(const std::string& tool);

/// Runs `call` (a vendor tool whose arguments matched its schema) through `http`, then `done`
/// with its outcome (a refusal by the vendor is an outcome with status `error`). False, and
/// nothing called, when `call.tool` is not a vendor tool.
bool run_vendor_tool(const vendor_call& call, const tool_vendor_settings& cfg, const http_fn& http,
                     std::function<void(vendor_outcome)> done);

} // namespace pixelcraft::integrations
