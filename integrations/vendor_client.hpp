#pragma once
/// Factory for the vendor client (contract in actors/vendor_actor.hpp).

#include "actors/vendor_actor.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace pixelcraft::integrations {

/// The vendor client's settings (app/ fills them from the configuration, API.md §9, §10).
struct vendor_options {
  struct service {
    std::string url; ///< normalised base URL
    std::string key; ///< empty: the service is not configured (calls are refused)
  };
  service crm;             ///< HubSpot (`CRM_API_URL`, `CRM_API_KEY`)
  service email;           ///< SendGrid (`EMAIL_API_URL`, `EMAIL_API_KEY`)
  service calendar;        ///< Google Calendar (`CALENDAR_API_URL`, `CALENDAR_API_KEY`); configured
                           ///< only with a `calendar_id`
  std::string calendar_id; ///< `CALENDAR_ID`
  std::string email_from;  ///< `EMAIL_FROM`: the sender of the tools' e-mails
  std::string email_notify_to;   ///< `EMAIL_NOTIFY_TO`: where lead notifications go
  unsigned timeout_ms = 10000;   ///< one attempt
  unsigned retries = 3;          ///< on 429, 5xx, timeouts, connection errors
  unsigned backoff_ms = 200;     ///< first backoff; doubles, with jitter
  unsigned breaker_failures = 5; ///< consecutive failures that open a service's circuit
  unsigned breaker_open_s = 30;  ///< how long an open circuit refuses calls
};

/// Spawns the router with `workers` detached curl workers.
vendor_actor spawn_vendor_client(caf::actor_system& sys, const vendor_options& cfg,
                                 unsigned workers = 4);

} // namespace pixelcraft::integrations
