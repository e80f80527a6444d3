#pragma once
/// What the health actor checks for the model server and each vendor (API.md §3): the vendor
/// URL shapes live here, next to the clients that call the same services.

#include "actors/health/health_actor.hpp"
#include "integrations/llm_client.hpp"
#include "integrations/vendor_client.hpp"

namespace pixelcraft::integrations {

struct health_targets_set {
  health_target model;
  health_target crm;
  health_target email;
  health_target calendar;
};

/// Ollama `GET /api/tags` (or `GET /v1/models` for an OpenAI-compatible provider); HubSpot,
/// SendGrid and Google Calendar: one cheap authenticated read each, only when configured.
health_targets_set health_targets(const llm_options& llm, const vendor_options& vendors);

} // namespace pixelcraft::integrations
