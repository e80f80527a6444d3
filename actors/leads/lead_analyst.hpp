#pragma once
/// Lead analysis (API.md §6): the rules' score and, when the `lead_qualification` agent answers
/// in time with an analysis that validates, the model's view combined with it.
///
/// - Spawned once by app/ (`spawn_lead_analyst`); lives until shutdown; event-based, never
///   blocks: each analysis is one `.then` request to the agent registry, so many run at once.
/// - The HTTP layer asks it for `POST /api/leads/submit` (unless `analyze` is false) and
///   `POST /api/leads/{id}/analyze`.
/// - Model output is hostile: it is parsed with the bounded parser, checked field by field
///   (score 0..100, confidence 0..1, at most 20 strings of at most 500 bytes per list,
///   `estimated_value` null or >= 0) and otherwise ignored: the rules' analysis stands.

#include "actors/agents/agent_catalog.hpp"
#include "actors/agents/agent_registry.hpp"
#include "actors/fwd.hpp"
#include "actors/leads/lead_scoring.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace pixelcraft {

using lead_analyst_actor = caf::typed_actor<
    /// In: the lead (`lead_profile`, actors/leads/lead_scoring.hpp) and the time the caller
    /// waits, in ms. Reply: the `LeadAnalysis` JSON text, `method` `rules+llm` or
    /// `rules`, always within `budget_ms` minus `deadlines::margin` (the model's turn gets
    /// `deadlines::inner` of it, at most 60 s). Never an error.
    caf::replies_to<lead_analyze_atom, lead_profile, uint32_t>::with<std::string>>;

struct lead_analyst_options {
  std::shared_ptr<const agent_catalog> catalog; ///< without `lead_qualification`: rules only
  agent_registry_actor agents;                  ///< may be invalid: rules only
};

lead_analyst_actor spawn_lead_analyst(caf::actor_system& sys, lead_analyst_options opts);

/// The rules' analysis of a lead (what the actor answers without a model), `LeadAnalysis` text.
std::string rules_only_analysis(const lead_profile& lead);

} // namespace pixelcraft
