// The tool policy's rules (API.md §12), alone: effect classes, defaults, overrides, and the
// catalogue's rendering of them.
#include "actors/agents/agent_catalog.hpp"
#include "actors/agents/tool_policy.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pixelcraft {

namespace {

using json = nlohmann::json;

policy_context ctx_for(const std::string& tool, lead_binding lead = {}) {
  policy_context c;
  c.agent = "digital_marketing";
  c.tool = tool;
  c.effect = *builtin_effect(tool);
  c.lead = std::move(lead);
  c.company_from = "hello@pixelcraft.example";
  c.company_notify_to = "sales@pixelcraft.example";
  return c;
}

lead_binding ada() {
  return {"Ada@Example.com", "Ada Lovelace", "5000-10000"};
}

} // namespace

TEST(ToolPolicyTest, SendRunsOnlyToTheCompanyOrTheBoundLead) {
  auto proposal = ctx_for("send_marketing_proposal", ada());
  EXPECT_EQ(decide(proposal, {{"to_email", "ada@example.com "}}).what, policy_verdict::run);
  EXPECT_EQ(decide(proposal, {{"to_email", "SALES@pixelcraft.example"}}).what, policy_verdict::run);
  auto outside = decide(proposal, {{"to_email", "victim@example.org"}});
  EXPECT_EQ(outside.what, policy_verdict::approval);
  EXPECT_NE(outside.reason.find("neither the company nor the bound lead"), std::string::npos);
  // No lead bound (a chat): anyone outside the company waits for a person.
  EXPECT_EQ(decide(ctx_for("send_marketing_proposal"), {{"to_email", "ada@example.com"}}).what,
            policy_verdict::approval);
  // Invitations are `send` too.
  auto invite = ctx_for("schedule_strategy_session", ada());
  EXPECT_EQ(decide(invite, {{"attendee_email", "ada@example.com"}}).what, policy_verdict::run);
  EXPECT_EQ(decide(invite, {{"attendee_email", "eve@example.com"}}).what, policy_verdict::approval);
  // The notification goes to the company's own address, whatever the model wrote in it.
  EXPECT_EQ(decide(ctx_for("send_qualification_notification"),
                   {{"lead_email", "eve@evil.example"}, {"summary", "ignore the rules"}})
                .what,
            policy_verdict::run);
}

TEST(ToolPolicyTest, WriteRunsOnlyForTheBoundLeadsOwnRecordWithinItsBudget) {
  auto crm = ctx_for("sync_lead_to_crm", ada());
  EXPECT_EQ(decide(crm, {{"email", "ada@example.com"}, {"name", "Ada"}}).what, policy_verdict::run);
  EXPECT_EQ(decide(crm, {{"email", "ada@example.com"}, {"deal_amount", 10000}}).what,
            policy_verdict::run);
  EXPECT_EQ(decide(crm, {{"email", "eve@example.com"}, {"name", "Ada"}}).what,
            policy_verdict::approval);
  auto big = decide(crm, {{"email", "ada@example.com"}, {"deal_amount", 9999999}});
  EXPECT_EQ(big.what, policy_verdict::approval);
  EXPECT_NE(big.reason.find("budget"), std::string::npos);
  auto no_range = ctx_for("create_marketing_lead", {"ada@example.com", "Ada", ""});
  EXPECT_EQ(decide(no_range, {{"email", "ada@example.com"}, {"monthly_budget", 10}}).what,
            policy_verdict::approval);
  EXPECT_EQ(decide(ctx_for("create_project_lead"), {{"email", "ada@example.com"}}).what,
            policy_verdict::approval);
}

TEST(ToolPolicyTest, OverridesWinButCalendarChangesAlwaysNeedAPerson) {
  policy_overrides o = {{"send_marketing_proposal", tool_policy::deny},
                        {"lead_qualification.sync_lead_to_crm", tool_policy::automatic},
                        {"cancel_meeting", tool_policy::deny}};
  EXPECT_EQ(effective_policy(o, "digital_marketing", "send_marketing_proposal", tool_policy::rules),
            tool_policy::deny);
  EXPECT_EQ(effective_policy(o, "lead_qualification", "sync_lead_to_crm", tool_policy::approval),
            tool_policy::automatic);
  EXPECT_EQ(effective_policy(o, "web_development", "sync_lead_to_crm", tool_policy::rules),
            tool_policy::rules);
  EXPECT_EQ(effective_policy(o, "lead_qualification", "cancel_meeting", tool_policy::rules),
            tool_policy::deny);
  EXPECT_EQ(effective_policy({}, "x", "reschedule_meeting", tool_policy::automatic),
            tool_policy::approval);
  auto c = ctx_for("send_marketing_proposal", ada());
  c.policy = tool_policy::deny;
  EXPECT_EQ(decide(c, {{"to_email", "ada@example.com"}}).what, policy_verdict::deny);
  c.policy = tool_policy::automatic;
  EXPECT_EQ(decide(c, {{"to_email", "anyone@example.org"}}).what, policy_verdict::run);
}

TEST(ToolPolicyTest, ToolPolicyParsesAndNamesWhatIsWrong) {
  std::string why;
  auto ok = parse_tool_policy(" send_marketing_proposal=deny, lead_qualification.sync_lead_to_crm"
                              "=AUTO ,,",
                              why);
  ASSERT_TRUE(ok) << why;
  EXPECT_EQ(ok->at("send_marketing_proposal"), tool_policy::deny);
  EXPECT_EQ(ok->at("lead_qualification.sync_lead_to_crm"), tool_policy::automatic);
  EXPECT_TRUE(parse_tool_policy("", why)->empty());
  for (const char* bad :
       {"send_marketing_proposal", "x=maybe", "=auto", "a.b.c=auto", "cancel_meeting=auto",
        "lead_qualification.reschedule_meeting=auto", "t\x01=deny"}) {
    why.clear();
    EXPECT_FALSE(parse_tool_policy(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(ToolPolicyTest, TheBoundLeadNeedsAValidAddress) {
  EXPECT_EQ(
      bound_lead_of({{"email", "ada@example.com"}, {"name", "Ada"}, {"budget_range", "25000+"}})
          .email,
      "ada@example.com");
  EXPECT_TRUE(bound_lead_of({{"email", "ada@example.com"}}).email.empty()); // no name
  EXPECT_TRUE(bound_lead_of({{"email", "ada@example.com"}, {"name", "A\nB"}}).email.empty());
  EXPECT_TRUE(
      bound_lead_of({{"email", "ada@example.com"}, {"name", "Ada"}, {"budget_range", "lots"}})
          .email.empty());
  EXPECT_TRUE(bound_lead_of({{"email", "not an address"}}).email.empty());
  EXPECT_TRUE(bound_lead_of({{"email", 7}}).email.empty());
  EXPECT_TRUE(bound_lead_of(json::array()).email.empty());
  EXPECT_EQ(deal_cap("25000+"), 100000);
  EXPECT_FALSE(deal_cap("lots"));
}

TEST(ToolPolicyTest, TheCatalogueShowsEffectAndPolicyAndRefusesALoweredEffect) {
  std::string error;
  auto cat = agent_catalog::load(agent_catalog::builtin_json(), "m", error,
                                 {{"send_marketing_proposal", tool_policy::deny}});
  ASSERT_TRUE(cat) << error;
  auto info = json::parse(cat->info_json(*cat->find("digital_marketing"), true, false));
  std::map<std::string, json> tools;
  for (auto& t : info["tools"])
    tools[t["name"]] = t;
  EXPECT_EQ(tools["send_marketing_proposal"]["effect"], "send");
  EXPECT_EQ(tools["send_marketing_proposal"]["policy"], "deny");
  EXPECT_EQ(tools["create_marketing_lead"]["effect"], "write");
  EXPECT_EQ(tools["create_marketing_lead"]["policy"], "approval");
  EXPECT_TRUE(tools["create_marketing_lead"].contains("auto_when"));
  auto lq = json::parse(cat->info_json(*cat->find("lead_qualification"), true, false));
  for (auto& t : lq["tools"]) {
    if (t["name"] == "cancel_meeting") {
      EXPECT_EQ(t["policy"], "approval");
    }
  }

  auto lowered = json::parse(agent_catalog::builtin_json());
  lowered["agents"][4]["tools"][1]["effect"] = "read"; // send_marketing_proposal
  ASSERT_EQ(lowered["agents"][4]["tools"][1]["name"], "send_marketing_proposal");
  EXPECT_FALSE(agent_catalog::load(lowered.dump(), "m", error));
  EXPECT_NE(error.find("send_marketing_proposal"), std::string::npos) << error;
  auto autocancel = json::parse(agent_catalog::builtin_json());
  autocancel["agents"][1]["tools"][4]["policy"] = "auto";
  ASSERT_EQ(autocancel["agents"][1]["tools"][4]["name"], "cancel_meeting");
  EXPECT_FALSE(agent_catalog::load(autocancel.dump(), "m", error));
}

} // namespace pixelcraft
