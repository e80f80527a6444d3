#include "workflows/routing_rules.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace pixelcraft::workflows;
using nlohmann::json;

namespace {

bool match(json cond, json result, json memory = json::object()) {
  return condition_matches(cond.dump(), result.dump(), memory.dump());
}

const json result = {
    {"content", "We recommend a new website"},
    {"metadata", {{"lead_score", 82}, {"tier", "gold"}, {"tags", {"web", "seo"}}}}};

} // namespace

TEST(RoutingRulesTest, EveryOperator) {
  auto c = [](const char* op, json v) {
    return json{{"field", "metadata.lead_score"}, {"operator", op}, {"value", v}};
  };
  EXPECT_TRUE(match(c(">", 70), result));
  EXPECT_FALSE(match(c(">", 82), result));
  EXPECT_TRUE(match(c(">=", 82), result));
  EXPECT_TRUE(match(c("<", 90), result));
  EXPECT_TRUE(match(c("<=", 82), result));
  EXPECT_FALSE(match(c("<=", 81.5), result));
  EXPECT_TRUE(match(c("==", 82), result));
  EXPECT_TRUE(match(c("!=", 81), result));
  EXPECT_TRUE(match(c("in", json::array({80, 82})), result));
  EXPECT_FALSE(match(c("in", json::array({1, 2})), result));
  EXPECT_TRUE(
      match({{"field", "content"}, {"operator", "contains"}, {"value", "website"}}, result));
  EXPECT_TRUE(
      match({{"field", "metadata.tags"}, {"operator", "contains"}, {"value", "seo"}}, result));
  EXPECT_TRUE(match({{"field", "metadata.tier"}, {"operator", "exists"}}, result));
  EXPECT_FALSE(match({{"field", "metadata.nope"}, {"operator", "exists"}}, result));
  EXPECT_TRUE(match({{"field", "metadata.tier"}, {"operator", "=="}, {"value", "gold"}}, result));
}

TEST(RoutingRulesTest, MissingFieldsAndTypeMismatchesAreFalse) {
  EXPECT_FALSE(match({{"field", "metadata.missing"}, {"operator", ">"}, {"value", 1}}, result));
  EXPECT_FALSE(match({{"field", "metadata.tier"}, {"operator", ">"}, {"value", 5}}, result));
  EXPECT_FALSE(
      match({{"field", "content"}, {"operator", "in"}, {"value", "not-an-array"}}, result));
  EXPECT_FALSE(
      match({{"field", "metadata.lead_score"}, {"operator", "contains"}, {"value", 8}}, result));
  EXPECT_FALSE(match({{"field", "metadata..x"}, {"operator", "exists"}}, result));
  EXPECT_FALSE(match({{"field", "metadata.lead_score"}, {"operator", "~"}, {"value", 1}}, result));
}

TEST(RoutingRulesTest, MemoryFields) {
  json memory = {{"budget", 30000}, {"segment", {{"name", "retail"}}}};
  EXPECT_TRUE(
      match({{"field", "memory.budget"}, {"operator", ">="}, {"value", 25000}}, result, memory));
  EXPECT_TRUE(match({{"field", "memory.segment.name"}, {"operator", "=="}, {"value", "retail"}},
                    result, memory));
  EXPECT_FALSE(match({{"field", "memory.absent"}, {"operator", "exists"}}, result, memory));
}

TEST(RoutingRulesTest, TheSeedExampleRoutesByScoreThenStops) {
  json rules = {{"conditions",
                 {{{"field", "metadata.lead_score"},
                   {"operator", ">"},
                   {"value", 70},
                   {"next_agent", "web_development"}}}},
                {"default", "chat"}};
  auto high = json{{"metadata", {{"lead_score", 86}}}}.dump();
  auto low = json{{"metadata", {{"lead_score", 40}}}}.dump();
  EXPECT_EQ(next_agent(rules.dump(), "lead_qualification", true, high, "{}"), "web_development");
  EXPECT_EQ(next_agent(rules.dump(), "lead_qualification", true, low, "{}"), "chat");
  // After a later step, conditions without `after` are not candidates and there is no default.
  EXPECT_EQ(next_agent(rules.dump(), "web_development", false, high, "{}"), "end");
}

TEST(RoutingRulesTest, AfterChainsAndEnd) {
  json rules = {{"conditions",
                 {{{"field", "content"},
                   {"operator", "contains"},
                   {"value", "again"},
                   {"next_agent", "chat"},
                   {"after", "chat"}},
                  {{"field", "content"},
                   {"operator", "exists"},
                   {"next_agent", "end"},
                   {"after", "web_development"}}}}};
  EXPECT_EQ(next_agent(rules.dump(), "chat", false, json{{"content", "again"}}.dump(), "{}"),
            "chat");
  EXPECT_EQ(next_agent(rules.dump(), "chat", false, json{{"content", "done"}}.dump(), "{}"), "end");
  EXPECT_EQ(next_agent(rules.dump(), "web_development", false, json{{"content", "x"}}.dump(), "{}"),
            "end");
}

TEST(RoutingRulesTest, Validation) {
  std::vector<std::string> agents = {"lead_qualification", "web_development", "chat"};
  EXPECT_TRUE(validate_rules(json{{"conditions",
                                   {{{"field", "metadata.lead_score"},
                                     {"operator", ">"},
                                     {"value", 70},
                                     {"next_agent", "web_development"}}}},
                                  {"default", "chat"}}
                                 .dump(),
                             agents)
                  .empty());
  auto problems = validate_rules(
      json{{"conditions",
            {{{"field", "x"}, {"operator", "~"}, {"next_agent", "nobody"}, {"after", "ghost"}}}},
           {"default", "astrologer"}}
          .dump(),
      agents);
  EXPECT_EQ(problems.size(), 5u);
  EXPECT_EQ(validate_rules("[]", agents).size(), 1u);
}

// Fuzz regressions (tests/fuzz/corpus/routing_rules_fuzz/regress-*): rules arrive from clients and
// are stored as jsonb, so a mistyped shape routes to "end", it never throws.
TEST(RoutingRulesTest, MistypedRulesEndTheRouteWithoutThrowing) {
  EXPECT_EQ(next_agent("[1,2]", "chat", true, "{}", "{}"), "end");
  EXPECT_EQ(next_agent("\"rules\"", "chat", false, "{}", "{}"), "end");
  EXPECT_EQ(next_agent(R"({"conditions":{"a":1},"default":"chat"})", "x", true, "{}", "{}"),
            "chat");
  EXPECT_EQ(
      next_agent(R"({"conditions":[1,null,{"field":"a","operator":"exists","next_agent":7}]})", "x",
                 true, R"({"a":1})", "{}"),
      "end");
  EXPECT_EQ(next_agent(R"({"conditions":[{"field":"a","operator":5,"value":1,"next_agent":"b"}]})",
                       "x", true, R"({"a":1})", "{}"),
            "b"); // a mistyped operator is the default "=="
  EXPECT_EQ(next_agent(R"({"conditions":[{"field":"a.99999999999999999999","operator":"exists",
                       "next_agent":"b"}]})",
                       "x", true, R"({"a":[1]})", "{}"),
            "end");
  EXPECT_EQ(next_agent(R"({"default":""})", "x", true, "{}", "{}"), "end");
  EXPECT_FALSE(
      validate_rules(R"({"conditions":[{"field":"a","operator":[],"next_agent":"end"}]})", {"chat"})
          .empty());
}
