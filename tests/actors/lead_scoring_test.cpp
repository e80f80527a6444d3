#include "actors/leads/lead_scoring.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace pixelcraft;

namespace {

std::string words(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += (i ? " w" : "w") + std::to_string(i);
  return s;
}

double factor(const lead_rule_score& s, const std::string& name) {
  for (auto& [k, v] : s.factors)
    if (k == name)
      return v;
  ADD_FAILURE() << "no factor " << name;
  return -1;
}

} // namespace

TEST(LeadScoringTest, CountsMaximalRunsOfNonWhitespace) {
  EXPECT_EQ(count_words(""), 0u);
  EXPECT_EQ(count_words("   "), 0u);
  EXPECT_EQ(count_words("one"), 1u);
  EXPECT_EQ(count_words("  one\ttwo\n\nthree  "), 3u);
  EXPECT_EQ(count_words("héllo—wörld ok"), 2u);
}

TEST(LeadScoringTest, EverythingAtMaximumScoresHundred) {
  lead_signals in{"25000+", "immediate", "Acme", words(25), {"a", "b", "c", "d"}};
  auto s = score_lead(in);
  EXPECT_DOUBLE_EQ(s.points, 70.0);
  EXPECT_EQ(s.score, 100);
  EXPECT_EQ(s.priority, "high");
  EXPECT_DOUBLE_EQ(factor(s, "budget"), 30);
  EXPECT_DOUBLE_EQ(factor(s, "timeline"), 15);
  EXPECT_DOUBLE_EQ(factor(s, "company"), 10);
  EXPECT_DOUBLE_EQ(factor(s, "message_detail"), 10);
  EXPECT_DOUBLE_EQ(factor(s, "services_interest"), 5);
  EXPECT_DOUBLE_EQ(s.confidence, 1.0);
}

TEST(LeadScoringTest, NothingScoresZero) {
  lead_signals in{"", "", "", "", {}};
  auto s = score_lead(in);
  EXPECT_EQ(s.score, 0);
  EXPECT_EQ(s.priority, "low");
  EXPECT_DOUBLE_EQ(s.confidence, 0.0);
}

// Hand-computed: 25 + 15 + 10 + 10*18/20 (9) + 5*2/3 (3.333...) = 62.333 -> 89.047 -> 89.
TEST(LeadScoringTest, HandComputedHighLead) {
  lead_signals in{"10000-25000", "1-3_months", "Acme", words(18), {"web", "seo"}};
  auto s = score_lead(in);
  EXPECT_EQ(s.score, 89);
  EXPECT_DOUBLE_EQ(factor(s, "message_detail"), 9);
  EXPECT_DOUBLE_EQ(factor(s, "services_interest"), 3.33);
}

// 10 + 5 + 0 + 10*7/20 (3.5) + 5*1/3 (1.667) = 20.1667 -> 28.81 -> 29 (rounds up past .5).
TEST(LeadScoringTest, HandComputedLowLeadRoundsToNearest) {
  lead_signals in{"1000-5000", "6-12_months", "", words(7), {"x"}};
  auto s = score_lead(in);
  EXPECT_EQ(s.score, 29);
  EXPECT_EQ(s.priority, "low");
  EXPECT_DOUBLE_EQ(factor(s, "message_detail"), 3.5);
  EXPECT_DOUBLE_EQ(factor(s, "services_interest"), 1.67);
}

// 20 + 10 + 10 + 0.5*3 (1.5) + 0 = 41.5 -> 59.29 -> 59; 0-1000 budget is 0 points.
TEST(LeadScoringTest, HandComputedMediumLeadAndZeroBudget) {
  lead_signals in{"5000-10000", "3-6_months", "Co", words(3), {}};
  auto s = score_lead(in);
  EXPECT_EQ(s.score, 59);
  EXPECT_EQ(s.priority, "medium");
  lead_signals cheap{"0-1000", "unknown", "", words(40), {}};
  auto c = score_lead(cheap);
  EXPECT_DOUBLE_EQ(factor(c, "budget"), 0);
  EXPECT_DOUBLE_EQ(factor(c, "timeline"), 0);
  EXPECT_EQ(c.score, 14); // 10 points -> 14.29
}

TEST(LeadScoringTest, PriorityThresholds) {
  EXPECT_EQ(priority_for(70), "high");
  EXPECT_EQ(priority_for(69), "medium");
  EXPECT_EQ(priority_for(40), "medium");
  EXPECT_EQ(priority_for(39), "low");
}

TEST(LeadScoringTest, CombinedScoreRoundsHalfUp) {
  EXPECT_EQ(combine_scores(50, 50), 50);
  EXPECT_EQ(combine_scores(89, 60), 72); // 35.6 + 36 = 71.6
  EXPECT_EQ(combine_scores(1, 0), 0);    // 0.4
  EXPECT_EQ(combine_scores(5, 0), 2);    // 2.0
  EXPECT_EQ(combine_scores(0, 5), 3);    // 3.0
  EXPECT_EQ(combine_scores(3, 1), 2);    // 1.2 + 0.6 = 1.8
  EXPECT_EQ(combine_scores(25, 0), 10);
  EXPECT_EQ(combine_scores(0, 25), 15);
  EXPECT_EQ(combine_scores(5, 5), 5);
  EXPECT_EQ(combine_scores(10, 5), 7); // 4 + 3 = 7.0
  EXPECT_EQ(combine_scores(0, 1), 1);  // 0.6
}

TEST(LeadScoringTest, RulesAnalysisJsonHasTheContractShape) {
  lead_signals in{"10000-25000",
                  "immediate",
                  "Acme \"Q\"",
                  "We need a new website and SEO for our shop",
                  {"web_development"}};
  auto s = score_lead(in);
  auto j = nlohmann::json::parse(rules_analysis_json(in, s));
  EXPECT_EQ(j["method"], "rules");
  EXPECT_EQ(j["lead_score"]["score"], s.score);
  EXPECT_EQ(j["lead_score"]["priority"], s.priority);
  EXPECT_EQ(j["lead_score"]["factors"].size(), 5u);
  EXPECT_EQ(j["estimated_value"], 17500);
  EXPECT_TRUE(j["recommended_services"].is_array());
  EXPECT_EQ(j["recommended_services"][0], "web_development");
  EXPECT_TRUE(j["key_insights"].is_array());
  EXPECT_FALSE(j["suggested_actions"].empty());
  lead_signals none{"", "", "", "hi", {}};
  auto j2 = nlohmann::json::parse(rules_analysis_json(none, score_lead(none)));
  EXPECT_TRUE(j2["estimated_value"].is_null());
}
