// The lead analyst on CAF's test coordinator: an agent registry stand-in answers (or not) in
// place of the model; virtual time only.
#include "actors/errc.hpp"
#include "actors/leads/lead_analyst.hpp"
#include "tests/support/actor_test.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace pixelcraft;
using json = nlohmann::json;

const char* lead_text = R"({"name":"Ada","email":"ada@example.com","company":"Analytical Ltd",
  "message":"We need a new web shop with payments and analytics within three months",
  "services_interested":["ecommerce_solutions"],"budget_range":"25000+","timeline":"1-3 months"})";

/// Answers every turn with `response` (not degraded), or never when `silent`.
agent_registry_actor::behavior_type agents_standin(agent_registry_actor::pointer self,
                                                   std::string response, bool silent) {
  return {
      [self, response, silent](chat_atom, const agent_turn& t,
                               const caf::actor&) -> caf::result<agent_reply> {
        if (silent)
          return self->make_response_promise<agent_reply>(); // never delivered
        EXPECT_EQ(t.agent_type, "lead_qualification");
        EXPECT_TRUE(json::parse(t.format).is_object());
        EXPECT_GT(t.budget_ms, 0);
        agent_reply r;
        r.response = response;
        r.meta.model_used = "test-model";
        return r;
      },
      [](forget_atom, const std::string&) {},
      [](agent_peer_atom, const std::string&, const std::string&) -> caf::result<caf::actor> {
        return caf::make_error(errc::not_found, "none");
      },
      [](agents_atom) { return std::vector<agent_instances>{}; },
      [](load_atom) { return int32_t{0}; },
  };
}

class LeadAnalystTest : public test::CoordinatorTest {
protected:
  lead_analyst_actor spawn(std::string response, bool silent = false) {
    std::string error;
    lead_analyst_options opts;
    opts.catalog = agent_catalog::load(agent_catalog::builtin_json(), "test-model", error);
    EXPECT_TRUE(opts.catalog) << error;
    opts.agents = sys.spawn(agents_standin, std::move(response), silent);
    auto analyst = spawn_lead_analyst(sys, opts);
    spawned = {caf::actor_cast<caf::actor>(opts.agents), caf::actor_cast<caf::actor>(analyst)};
    return analyst;
  }

  json analyze(lead_analyst_actor analyst, uint32_t budget_ms,
               std::chrono::milliseconds advance = {}) {
    auto rh = self->request(analyst, std::chrono::seconds(3600), lead_analyze_atom_v,
                            lead_profile_of(json::parse(lead_text)), budget_ms);
    sched.run();
    if (advance.count() > 0) {
      sched.advance_time(advance);
      sched.run();
    }
    json out;
    rh.receive([&](std::string& text) { out = json::parse(text); },
               [](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
    return out;
  }

  void TearDown() override {
    for (auto& a : spawned)
      end(a);
  }

  std::vector<caf::actor> spawned;
};

} // namespace

TEST_F(LeadAnalystTest, AValidModelAnswerIsCombinedWithTheRules) {
  auto analyst = spawn(R"({"score": 90, "confidence": 0.8, "recommended_services":
    ["ecommerce_solutions"], "key_insights": ["clear need"], "suggested_actions": ["call"],
    "estimated_value": 30000})");
  auto a = analyze(analyst, 30000);
  auto rules = json::parse(rules_only_analysis(lead_profile_of(json::parse(lead_text))));
  EXPECT_EQ(a["method"], "rules+llm") << a;
  auto rules_score = rules["lead_score"]["score"].get<int>();
  EXPECT_EQ(a["lead_score"]["rules_score"], rules_score);
  EXPECT_EQ(a["lead_score"]["model_score"], 90);
  EXPECT_EQ(a["lead_score"]["score"], (4 * rules_score + 6 * 90 + 5) / 10);
  EXPECT_EQ(a["key_insights"], json::array({"clear need"}));
}

TEST_F(LeadAnalystTest, ModelOutputThatDoesNotValidateLeavesTheRules) {
  for (const char* bad : {R"({"score": 900, "confidence": 0.5})", "not json at all",
                          R"({"score": 50, "confidence": 0.5, "recommended_services": [""],
                              "key_insights": [], "suggested_actions": [],
                              "estimated_value": null})",
                          R"([1, 2, 3])"}) {
    auto analyst = spawn(bad);
    auto a = analyze(analyst, 30000);
    EXPECT_EQ(a, json::parse(rules_only_analysis(lead_profile_of(json::parse(lead_text))))) << bad;
    TearDown();
  }
}

TEST_F(LeadAnalystTest, ASilentModelGivesTheRulesBeforeTheCallerGivesUp) {
  auto analyst = spawn("", /*silent=*/true);
  // The caller waits 10 s; the analyst answers from the rules once its inner wait (9 s) ends.
  auto a = analyze(analyst, 10000, std::chrono::milliseconds(9000));
  EXPECT_EQ(a["method"], "rules") << a;
}

TEST_F(LeadAnalystTest, NoTimeLeftMeansTheRulesAtOnce) {
  auto analyst = spawn("", /*silent=*/true);
  auto a = analyze(analyst, 50);
  EXPECT_EQ(a["method"], "rules") << a;
}
