#include "actors/leads/lead_scoring.hpp"

#include "actors/json_limits.hpp"
#include "actors/log.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace pixelcraft {

namespace {

int budget_points(const std::string& b) {
  if (b == "1000-5000")
    return 10;
  if (b == "5000-10000")
    return 20;
  if (b == "10000-25000")
    return 25;
  if (b == "25000+")
    return 30;
  return 0; // 0-1000 or absent
}

int timeline_points(const std::string& t) {
  if (t == "immediate" || t == "1-3_months")
    return 15;
  if (t == "3-6_months")
    return 10;
  if (t == "6-12_months")
    return 5;
  return 0;
}

double round2(double x) {
  return std::floor(x * 100.0 + 0.5) / 100.0;
}

std::string number(double x) {
  if (x == std::floor(x) && std::fabs(x) < 1e15)
    return log::fixed(x, 0);
  return log::fixed(x, 2);
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  log::append_json_escaped(out, s);
  out += '"';
}

void append_array(std::string& out, const std::vector<std::string>& xs) {
  out += '[';
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i)
      out += ',';
    append_string(out, xs[i]);
  }
  out += ']';
}

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

} // namespace

lead_profile lead_profile_of(const nlohmann::json& lead) {
  lead_profile p;
  if (!lead.is_object())
    return p;
  p.name = string_or(lead, "name");
  p.company = string_or(lead, "company");
  p.budget_range = string_or(lead, "budget_range");
  p.timeline = string_or(lead, "timeline");
  p.source = string_or(lead, "source");
  p.message = string_or(lead, "message");
  p.services = strings_or_none(lead, "services_interested");
  return p;
}

size_t count_words(std::string_view text) {
  size_t n = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    bool space = std::isspace(c) != 0;
    if (!space && !in_word)
      ++n;
    in_word = !space;
  }
  return n;
}

lead_rule_score score_lead(const lead_signals& in) {
  lead_rule_score s;
  auto words = std::min<size_t>(count_words(in.message), 20);
  auto services = std::min<size_t>(in.services.size(), 3);
  // Exact arithmetic in sixths of a point: message = words/2, services = 5*count/3.
  long sixths = 6L * (budget_points(in.budget_range) + timeline_points(in.timeline) +
                      (in.company.empty() ? 0 : 10)) +
                3L * static_cast<long>(words) + 10L * static_cast<long>(services);
  s.points = static_cast<double>(sixths) / 6.0;
  // round(points * 100 / 70) halves up == floor((sixths * 100 * 2 + 420) / 840).
  s.score = static_cast<int>((sixths * 200 + 420) / 840);
  s.factors = {
      {"budget", static_cast<double>(budget_points(in.budget_range))},
      {"timeline", static_cast<double>(timeline_points(in.timeline))},
      {"company", in.company.empty() ? 0.0 : 10.0},
      {"message_detail", round2(10.0 * static_cast<double>(words) / 20.0)},
      {"services_interest", round2(5.0 * static_cast<double>(services) / 3.0)},
  };
  int present = (!in.budget_range.empty()) + (!in.timeline.empty() && in.timeline != "unknown") +
                (!in.company.empty()) + (count_words(in.message) >= 20) + (!in.services.empty());
  s.confidence = present / 5.0;
  s.priority = priority_for(s.score);
  return s;
}

std::string priority_for(int score) {
  if (score >= 70)
    return "high";
  if (score >= 40)
    return "medium";
  return "low";
}

int combine_scores(int rules, int model) {
  return (4 * rules + 6 * model + 5) / 10;
}

std::optional<budget_bounds> budget_range_bounds(std::string_view b) {
  static const std::pair<std::string_view, budget_bounds> ranges[] = {
      {"0-1000", {0, 1000}},
      {"1000-5000", {1000, 5000}},
      {"5000-10000", {5000, 10000}},
      {"10000-25000", {10000, 25000}},
      {"25000+", {25000, std::nullopt}}};
  for (const auto& [name, bounds] : ranges)
    if (name == b)
      return bounds;
  return std::nullopt;
}

std::optional<double> estimated_value(const std::string& b) {
  auto r = budget_range_bounds(b);
  if (!r)
    return std::nullopt;
  return r->high ? (r->low + *r->high) / 2 : r->low;
}

const std::vector<std::string>& service_ids() {
  static const std::vector<std::string> ids = {"web_development",  "digital_marketing",
                                               "brand_design",     "ecommerce_solutions",
                                               "content_creation", "analytics_consulting"};
  return ids;
}

std::vector<std::string> keyword_services(const std::string& text,
                                          const std::vector<std::string>& explicit_services,
                                          size_t limit) {
  static const std::vector<std::pair<const char*, std::vector<const char*>>> keywords = {
      {"web_development",
       {"website", "web site", "web app", "webapp", "landing page", "wordpress"}},
      {"digital_marketing", {"seo", "marketing", "ads", "advertising", "social media", "campaign"}},
      {"brand_design", {"brand", "logo", "identity", "design"}},
      {"ecommerce_solutions", {"shop", "store", "ecommerce", "e-commerce", "shopify", "checkout"}},
      {"content_creation", {"content", "blog", "copywriting", "video", "articles"}},
      {"analytics_consulting", {"analytics", "tracking", "dashboard", "data", "conversion"}},
  };
  std::vector<std::string> out;
  auto add = [&](const std::string& x) {
    if (std::find(out.begin(), out.end(), x) == out.end() && out.size() < limit)
      out.push_back(x);
  };
  for (const auto& svc : explicit_services)
    add(svc);
  auto msg = lower(text);
  for (const auto& [service, words] : keywords)
    for (const auto* w : words)
      if (msg.find(w) != std::string::npos) {
        add(service);
        break;
      }
  return out;
}

std::string rules_analysis_json(const lead_signals& in, const lead_rule_score& s) {
  auto recommended = keyword_services(in.message, in.services);

  std::vector<std::string> insights;
  insights.push_back(in.budget_range.empty() ? "No budget range given"
                                             : "Budget range " + in.budget_range);
  insights.push_back(in.timeline.empty() || in.timeline == "unknown" ? "No firm timeline"
                                                                     : "Timeline " + in.timeline);
  if (!in.company.empty())
    insights.push_back("Company: " + in.company);
  insights.push_back("Message of " + std::to_string(count_words(in.message)) + " words");
  if (!in.services.empty())
    insights.push_back(std::to_string(in.services.size()) + " service(s) of interest");

  std::vector<std::string> actions;
  if (s.priority == "high") {
    actions = {"Contact the lead within 24 hours", "Offer a strategy session",
               "Prepare a tailored proposal"};
  } else if (s.priority == "medium") {
    actions = {"Reply within 2 business days", "Ask for budget and timeline details",
               "Share relevant case studies"};
  } else {
    actions = {"Send a friendly acknowledgement", "Add to the nurture email sequence"};
  }

  std::string out = "{\"lead_score\":{\"score\":" + std::to_string(s.score) +
                    ",\"confidence\":" + number(round2(s.confidence)) + ",\"factors\":{";
  for (size_t i = 0; i < s.factors.size(); ++i) {
    if (i)
      out += ',';
    append_string(out, s.factors[i].first);
    out += ':';
    out += number(s.factors[i].second);
  }
  out += "},\"priority\":";
  append_string(out, s.priority);
  out += "},\"recommended_services\":";
  append_array(out, recommended);
  out += ",\"key_insights\":";
  append_array(out, insights);
  out += ",\"suggested_actions\":";
  append_array(out, actions);
  out += ",\"estimated_value\":";
  auto ev = estimated_value(in.budget_range);
  out += ev ? number(*ev) : "null";
  out += ",\"method\":\"rules\"}";
  return out;
}

} // namespace pixelcraft
