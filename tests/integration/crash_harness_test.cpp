// The crash harness of API.md §13 (issue 10), apart from the other policy tests: it runs
// alone (RUN_SERIAL), since it loads both cores for minutes and would skew the timing of
// whatever ran beside it.
#include "tests/integration/policy_fixture.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace pixelcraft::test {

// The crash harness (API.md §13): many workflows whose steps send e-mail and write the
// CRM, and the server killed with SIGKILL at random moments, again and again. Every workflow
// completes, no recipient gets an e-mail twice and no contact is created twice at the fakes,
// and every call a crash cut off (`outcome_unknown`) is surfaced as an approval. The full
// scale is 500 workflows and 200 kills; a sanitizer build runs a fifth of it.
TEST_F(PolicyTest, KillNineAtRandomNeverRepeatsASideEffect) {
#if defined(__SANITIZE_ADDRESS__)
  const int workflows = 100, kills = 40;
#else
  const int workflows = 500, kills = 200;
#endif
  restart_with({{"WORKFLOW_LEASE_S", "2"}, {"TOOL_BUDGET_PER_TURN", "10"}});
  // Each lead's step asks for its e-mail and its CRM record, then answers; the chat step only
  // answers. Slow enough pieces that kills land inside model calls too.
  model.respond([](const json& req) {
    auto text = req.dump();
    auto at = text.find("lead-");
    auto end = at == std::string::npos ? at : text.find("@example.com", at);
    auto lead = at == std::string::npos || end == std::string::npos ? std::string{"lead-x"}
                                                                    : text.substr(at, end - at);
    const auto& messages = req["messages"];
    bool answered = !messages.empty() && messages.back().value("role", "") == "tool";
    bool marketing = text.find("send_marketing_proposal") != std::string::npos;
    if (marketing && !answered)
      return calls(json::array(
          {tool_call("send_marketing_proposal", {{"to_email", lead + "@example.com"},
                                                 {"proposal_summary", "Plan for " + lead}}),
           tool_call("create_marketing_lead", {{"email", lead + "@example.com"},
                                               {"name", "Lead " + lead},
                                               {"monthly_budget", 1000},
                                               {"summary", "Harness"}})}));
    fake_llm_script s;
    s.tokens = {"Done", " for ", lead, "."};
    s.token_delay = std::chrono::milliseconds(20);
    return s;
  });
  std::mt19937 rng{20261203};
  std::uniform_int_distribution<int> life_ms{20, 900};
  std::vector<std::string> ids;
  auto start_one = [&](int n) {
    auto lead = "lead-" + std::to_string(n);
    auto r = post("/api/agents/workflows/execute",
                  {{"workflow_type", "sequential"},
                   {"participating_agents", {"digital_marketing", "chat"}},
                   {"input_data",
                    {{"message", "Send " + lead + " our plan."},
                     {"lead_data",
                      {{"name", "Lead " + std::to_string(n)},
                       {"email", lead + "@example.com"},
                       {"budget_range", "1000-5000"}}}}}},
                  {bearer(user_token())});
    if (r.status == 202)
      ids.push_back(json::parse(r.body)["workflow_id"].get<std::string>());
    return r.status == 202;
  };
  int next = 0;
  for (int k = 0; k < kills; ++k) {
    // This life's share of the workflows, then a kill at a random moment.
    int share = (workflows - next) / (kills - k);
    for (int i = 0; i < share; ++i)
      if (start_one(next))
        ++next;
    std::this_thread::sleep_for(std::chrono::milliseconds(life_ms(rng)));
    srv.kill9();
    start_server(base_env());
  }
  while (next < workflows)
    if (start_one(next))
      ++next;
  ASSERT_EQ(ids.size(), static_cast<size_t>(workflows));

  // Let everything finish. A call a crash cut off waits for a person: deny it (it may have
  // reached the recipient already), and the run goes on.
  pqxx::connection c{dsn};
  auto count = [&](const std::string& sql) {
    pqxx::read_transaction t{c};
    return t.exec1(sql)[0].as<long long>();
  };
  auto unfinished = [&] {
    return count("SELECT count(*) FROM workflow_executions"
                 " WHERE current_state NOT IN ('completed', 'failed', 'cancelled')");
  };
  long long denied = 0;
  ASSERT_TRUE(eventually(
      [&] {
        auto pending = json::parse(
            get("/api/approvals?state=pending&limit=100", {bearer(admin_token())}).body);
        for (auto& a : pending["items"]) {
          EXPECT_NE(a["reason"].get<std::string>().find("may already have reached"),
                    std::string::npos)
              << a.dump();
          if (post("/api/approvals/" + a["approval_id"].get<std::string>(), {{"decision", "deny"}},
                   {bearer(admin_token())})
                  .status == 200)
            ++denied;
        }
        return unfinished() == 0;
      },
      240))
      << unfinished() << " workflows unfinished";
  EXPECT_EQ(count("SELECT count(*) FROM workflow_executions WHERE current_state = 'completed'"),
            workflows);

  // At the fakes: each lead's e-mail, contact and deal at most once.
  std::map<std::string, int> mails, contacts;
  for (auto& r : vendors.requests("POST", "/v3/mail/send"))
    ++mails[r.body["personalizations"][0]["to"][0]["email"].get<std::string>()];
  for (auto& r : vendors.requests("POST", "/crm/v3/objects/contacts"))
    if (r.target == "/crm/v3/objects/contacts")
      ++contacts[r.body["properties"]["email"].get<std::string>()];
  for (auto& [to, n] : mails)
    EXPECT_EQ(n, 1) << to << " got the e-mail " << n << " times";
  for (auto& [email, n] : contacts)
    EXPECT_EQ(n, 1) << email << " was sent to the CRM " << n << " times";
  std::map<std::string, int> deals;
  for (auto& r : vendors.requests("POST", "/crm/v3/objects/deals"))
    ++deals[r.body["properties"]["dealname"].get<std::string>()];
  for (auto& [name, n] : deals)
    EXPECT_EQ(n, 1) << "deal " << name << " was created " << n << " times";
  // Every lead got its e-mail, unless a crash cut the call off and a person said no.
  auto unknown = count("SELECT count(*) FROM step_journal WHERE status = 'outcome_unknown'");
  EXPECT_GE(static_cast<long long>(mails.size()), workflows - unknown);
  // Every call cut off is an approval (the same step, agent and call), decided by a person.
  EXPECT_EQ(count("SELECT count(*) FROM step_journal j WHERE j.status = 'outcome_unknown'"
                  " AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.dedupe_key ="
                  "   j.workflow_execution_id::text || ':' || j.step || ':' || j.agent || ':' ||"
                  "   j.call_key AND a.state = 'denied')"),
            0);
  EXPECT_EQ(denied, count("SELECT count(*) FROM approvals WHERE state = 'denied'"));
  std::cout << "[ harness  ] " << workflows << " workflows, " << kills << " kills, " << mails.size()
            << " leads e-mailed, " << unknown << " calls cut off (denied)" << std::endl;
}

} // namespace pixelcraft::test
