#include "actors/leads/lead_analyst.hpp"

#include "actors/deadline.hpp"
#include "actors/json_limits.hpp"
#include "actors/leads/lead_scoring.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace pixelcraft {

namespace {

using json = nlohmann::json;

const json& analysis_schema() {
  static const json schema = parse_json_or_throw(R"({
    "type": "object",
    "properties": {
      "score": {"type": "integer", "minimum": 0, "maximum": 100},
      "confidence": {"type": "number", "minimum": 0, "maximum": 1},
      "recommended_services": {"type": "array", "items": {"type": "string"}},
      "key_insights": {"type": "array", "items": {"type": "string"}},
      "suggested_actions": {"type": "array", "items": {"type": "string"}},
      "estimated_value": {"type": ["number", "null"]}
    },
    "required": ["score", "confidence", "recommended_services", "key_insights",
                 "suggested_actions", "estimated_value"]
  })");
  return schema;
}

bool string_list(const json& x, size_t max_items) {
  if (!x.is_array() || x.size() > max_items)
    return false;
  return std::all_of(x.begin(), x.end(), [](const json& s) {
    return s.is_string() && !s.get<std::string>().empty() && s.get<std::string>().size() <= 500;
  });
}

/// The model's answer, if it validates (API.md §6); otherwise null.
json validated_model_analysis(const std::string& content) {
  auto m = parse_json(content); // model output: bounded, never throws
  if (!m.is_object() || !m.contains("score") || !m["score"].is_number() ||
      !m.contains("confidence") || !m["confidence"].is_number())
    return nullptr;
  auto score = m["score"].get<double>();
  auto confidence = m["confidence"].get<double>();
  if (!(score >= 0 && score <= 100) || !(confidence >= 0 && confidence <= 1))
    return nullptr;
  for (auto key : {"recommended_services", "key_insights", "suggested_actions"})
    if (!m.contains(key) || !string_list(m[key], 20))
      return nullptr;
  if (!m.contains("estimated_value") ||
      !(m["estimated_value"].is_null() ||
        (m["estimated_value"].is_number() && m["estimated_value"].get<double>() >= 0)))
    return nullptr;
  m["score"] = static_cast<int>(std::floor(score + 0.5));
  return m;
}

/// The model's prompt: each field quoted as a JSON string (a visitor's text stays data), or
/// "not given".
std::string describe_lead(const lead_profile& lead, const lead_rule_score& rules) {
  auto quoted = [](const auto& value) {
    return json(value).dump(-1, ' ', false, json::error_handler_t::replace);
  };
  auto field = [&](const std::string& value) {
    return value.empty() ? std::string{"not given"} : quoted(value);
  };
  auto services = lead.services.empty() ? std::string{"not given"} : quoted(lead.services);
  return "Qualify this inbound lead and answer with JSON only.\n"
         "Name: " +
         field(lead.name) + "\nCompany: " + field(lead.company) +
         "\nServices of interest: " + services + "\nBudget range: " + field(lead.budget_range) +
         "\nTimeline: " + field(lead.timeline) + "\nSource: " + field(lead.source) +
         "\nMessage: " + field(lead.message) + "\nOur rule-based score is " +
         std::to_string(rules.score) + "/100.";
}

/// The rules' analysis with the model's view combined into it.
std::string combined(const std::string& rules_only, const lead_rule_score& rules, const json& m) {
  auto a = parse_json_or_throw(rules_only); // our own text
  auto final_score = combine_scores(rules.score, m["score"].get<int>());
  a["lead_score"]["score"] = final_score;
  a["lead_score"]["confidence"] = m["confidence"];
  a["lead_score"]["priority"] = priority_for(final_score);
  a["lead_score"]["rules_score"] = rules.score;
  a["lead_score"]["model_score"] = m["score"];
  a["recommended_services"] = m["recommended_services"];
  a["key_insights"] = m["key_insights"];
  a["suggested_actions"] = m["suggested_actions"];
  a["estimated_value"] = m["estimated_value"];
  a["method"] = "rules+llm";
  return a.dump();
}

lead_analyst_actor::behavior_type analyst(lead_analyst_actor::pointer self,
                                          lead_analyst_options opts) {
  return {
      [self, opts](lead_analyze_atom, const lead_profile& lead,
                   uint32_t budget_ms) -> caf::result<std::string> {
        auto signals = lead.signals();
        auto rules = score_lead(signals);
        auto rules_only = rules_analysis_json(signals, rules);
        if (!opts.agents || !opts.catalog || !opts.catalog->find("lead_qualification"))
          return rules_only;
        // At most a minute for the model's view, and an answer before the caller gives up.
        auto wait = deadlines::inner(
            std::min<deadlines::ms>(std::chrono::seconds(60), deadlines::ms(budget_ms)));
        if (wait < deadlines::min_work)
          return rules_only;
        agent_turn turn;
        turn.agent_type = "lead_qualification";
        turn.message = describe_lead(lead, rules);
        turn.action = "analyze_lead";
        turn.format = analysis_schema().dump();
        turn.budget_ms = deadlines::inner(wait).count();
        auto rp = self->make_response_promise<std::string>();
        self->request(opts.agents, wait, chat_atom_v, std::move(turn), caf::actor{})
            .then(
                [rp, rules, rules_only](const agent_reply& r) mutable {
                  auto m = r.meta.degraded ? json(nullptr) : validated_model_analysis(r.response);
                  // No model, or output that does not validate: the rules stand.
                  rp.deliver(m.is_null() ? rules_only : combined(rules_only, rules, m));
                },
                [rp, rules_only](caf::error&) mutable { rp.deliver(rules_only); });
        return rp;
      },
  };
}

} // namespace

lead_analyst_actor spawn_lead_analyst(caf::actor_system& sys, lead_analyst_options opts) {
  return sys.spawn(analyst, std::move(opts));
}

std::string rules_only_analysis(const lead_profile& lead) {
  auto signals = lead.signals();
  return rules_analysis_json(signals, score_lead(signals));
}

} // namespace pixelcraft
