#pragma once
/// Lead scoring rules of API.md §6: deterministic, explainable, pure functions (no I/O).

#include <caf/meta/type_name.hpp>

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pixelcraft {

/// The inputs the rules look at, taken from a validated `LeadData`.
struct lead_signals {
  std::string budget_range; ///< empty when absent
  std::string timeline;     ///< empty when absent
  std::string company;      ///< empty when absent
  std::string message;
  std::vector<std::string> services;
};

struct lead_rule_score {
  int score = 0;         ///< round(points * 100 / 70), halves up
  double points = 0;     ///< 0..70, unrounded sum of the factors
  double confidence = 0; ///< share of the five inputs the lead provided, 0..1
  std::vector<std::pair<std::string, double>> factors; ///< name, points (2 decimals)
  std::string priority;                                ///< high >= 70, medium >= 40, else low
};

/// A lead as an analysis reads it (the fields of `LeadData`, API.md §6): what the HTTP layer
/// sends the lead analyst, typed from a validated body or a stored `Lead`. Empty: not given.
struct lead_profile {
  std::string name;
  std::string company;
  std::vector<std::string> services; ///< `services_interested`
  std::string budget_range;
  std::string timeline;
  std::string source;
  std::string message;

  lead_signals signals() const { return {budget_range, timeline, company, message, services}; }
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, lead_profile& x) {
  return f(caf::meta::type_name("pixelcraft::lead_profile"), x.name, x.company, x.services,
           x.budget_range, x.timeline, x.source, x.message);
}

/// A lead given as JSON (a request body, a stored document or a run's `input_data.lead_data`):
/// absent or mistyped fields count as not given.
lead_profile lead_profile_of(const nlohmann::json& lead);

/// Number of maximal runs of non-whitespace characters.
size_t count_words(std::string_view text);

lead_rule_score score_lead(const lead_signals& in);

/// `high`, `medium` or `low` for a 0..100 score.
std::string priority_for(int score);

/// round(0.4 * rules + 0.6 * model), halves up, exact in integers.
int combine_scores(int rules, int model);

/// A LeadData budget range in EUR: `25000+` has no upper bound.
struct budget_bounds {
  double low = 0;
  std::optional<double> high;
};

/// The bounds of one of LeadData's budget ranges (API.md §6); none for anything else.
std::optional<budget_bounds> budget_range_bounds(std::string_view budget_range);

/// Midpoint of the budget range (the lower bound for `25000+`); none without a budget.
std::optional<double> estimated_value(const std::string& budget_range);

/// The agency's service ids.
const std::vector<std::string>& service_ids();

/// Services named in `explicit_services` (first) and those whose keywords appear in `text`
/// (case-insensitive), without duplicates, at most `limit`.
std::vector<std::string> keyword_services(const std::string& text,
                                          const std::vector<std::string>& explicit_services,
                                          size_t limit = 6);

/// The `LeadAnalysis` JSON (API.md §6) the rules alone produce (`method: "rules"`).
std::string rules_analysis_json(const lead_signals& in, const lead_rule_score& s);

} // namespace pixelcraft
