// The run spec (workflows/run_spec.hpp): what may run, judged before an execution exists.
#include "actors/json_limits.hpp"
#include "workflows/run_spec.hpp"

#include <gtest/gtest.h>

namespace {

using nlohmann::json;
using namespace pixelcraft::workflows;

const std::vector<std::string> agents = {"chat", "lead_qualification", "digital_marketing"};

std::vector<std::string> locs(const std::vector<spec_problem>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps)
    out.push_back(p.loc.dump() + ":" + p.type);
  return out;
}

TEST(RunSpecTest, AValidSpecIsNormalised) {
  json spec;
  auto ps = check_run_spec(
      {{"workflow_type", "sequential"}, {"participating_agents", {"chat", "digital_marketing"}}},
      agents, spec);
  ASSERT_TRUE(ps.empty()) << ::testing::PrintToString(locs(ps));
  EXPECT_EQ(spec["workflow_config"], json::object());
  EXPECT_EQ(spec["input_data"], json::object());
  EXPECT_EQ(spec["metadata"], json::object());
  EXPECT_TRUE(check_routing(spec).empty());
}

TEST(RunSpecTest, EveryBadFieldIsReportedInFieldOrder) {
  json spec = "untouched";
  auto ps = check_run_spec({{"workflow_type", "loop"},
                            {"participating_agents", {"chat", "chat", "nobody"}},
                            {"workflow_config", {{"max_steps", 0}, {"retries", 6}}},
                            {"input_data", {{"message", 5}}},
                            {"metadata", "x"}},
                           agents, spec);
  EXPECT_EQ(locs(ps), (std::vector<std::string>{
                          R"(["body","workflow_type"]:enum)",
                          R"(["body","participating_agents",1]:value_error)",
                          R"(["body","participating_agents",2]:enum)",
                          R"(["body","input_data","message"]:string_type)",
                          R"(["body","metadata"]:dict_type)",
                          R"(["body","workflow_config","max_steps"]:int_range)",
                          R"(["body","workflow_config","retries"]:int_range)",
                      }));
  EXPECT_EQ(spec, "untouched");
}

TEST(RunSpecTest, FreeFormPartsAreSizedBeforeUse) {
  json spec;
  json big = {{"blob", std::string(pixelcraft::max_free_json_bytes, 'x')}};
  auto ps = check_run_spec(
      {{"workflow_type", "parallel"}, {"participating_agents", {"chat"}}, {"input_data", big}},
      agents, spec);
  EXPECT_EQ(locs(ps), (std::vector<std::string>{R"(["body","input_data"]:too_long)"}));
}

TEST(RunSpecTest, AConditionalRunNeedsValidRoutingRules) {
  json spec;
  ASSERT_TRUE(check_run_spec({{"workflow_type", "conditional"},
                              {"participating_agents", {"chat", "lead_qualification"}}},
                             agents, spec)
                  .empty());
  EXPECT_EQ(locs(check_routing(spec)),
            (std::vector<std::string>{R"(["body","workflow_config","routing_rules"]:missing)"}));
  spec["workflow_config"]["routing_rules"] = {{"conditions",
                                               {{{"field", "metadata.lead_score"},
                                                 {"operator", ">"},
                                                 {"value", 50},
                                                 {"next_agent", "nobody"}}}}};
  EXPECT_EQ(check_routing(spec).size(), 1u);
  spec["workflow_config"]["routing_rules"]["conditions"][0]["next_agent"] = "chat";
  EXPECT_TRUE(check_routing(spec).empty());
}

} // namespace
