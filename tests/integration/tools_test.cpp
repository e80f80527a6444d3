// Tools and integrations (API.md §9) end to end: the model asks for tools, the server calls the
// fake vendors over HTTP, results go back to the model, and every execution is logged.
#include "tests/fakes/fake_llm.hpp"
#include "tests/fakes/fake_vendors.hpp"
#include "tests/integration/server_fixture.hpp"
#include "tests/support/eventually.hpp"

#include <pqxx/pqxx>

#include <thread>

namespace pixelcraft::test {

namespace {

const std::string& crm_key = vendor_keys::crm;
const std::string& email_key = vendor_keys::email;
const std::string& calendar_key = vendor_keys::calendar;
const std::string& calendar_id = vendor_keys::calendar_id;

json strategy_calls() {
  return json::array(
      {tool_call("schedule_strategy_session", {{"attendee_email", "ada@example.com"},
                                               {"attendee_name", "Ada Lovelace"},
                                               {"start_time", "2026-12-01T10:00:00+01:00"},
                                               {"agenda", "Grow the bakery online"}}),
       tool_call("send_marketing_proposal", {{"to_email", "ada@example.com"},
                                             {"to_name", "Ada"},
                                             {"proposal_summary", "Local SEO and a shop."}})});
}

} // namespace

class ToolsTest : public ServerTest {
public:
  std::map<std::string, std::string> base_env() const override {
    auto env = ServerTest::base_env();
    env["OLLAMA_HOST"] = model.url();
    env["OLLAMA_MODEL"] = "llama3.2";
    if (configure)
      for (auto& [k, v] : vendor_env(vendors))
        env[k] = v;
    // These tests are about the vendors' wire: every tool that may run by itself does (the
    // default policy is tested in policy_test.cpp); calendar changes always ask a person.
    env["TOOL_POLICY"] = "create_project_lead=auto,create_marketing_lead=auto,"
                         "sync_lead_to_crm=auto,send_marketing_proposal=auto,"
                         "send_qualification_notification=auto,schedule_strategy_session=auto,"
                         "schedule_technical_consultation=auto,schedule_qualification_call=auto";
    env["TOOL_BUDGET_PER_TURN"] = "20";
    env["TOOL_BUDGET_ANON_PER_HOUR"] = "1000";
    env["VENDOR_BACKOFF_MS"] = "20";
    env["VENDOR_RETRIES"] = "2";
    env["BREAKER_FAILURES"] = "2";
    return env;
  }

  json chat(const std::string& agent, const std::string& message) {
    auto r = post("/api/chat/message", {{"message", message}, {"agent_type", agent}});
    EXPECT_EQ(r.status, 200) << r.body;
    responses += r.body;
    return json::parse(r.body, nullptr, false);
  }

  /// Requests made by tools (health probes are GETs of a fixed few paths).
  std::vector<vendor_request> tool_requests() {
    std::vector<vendor_request> out;
    for (auto& r : vendors.requests()) {
      bool probe = r.method == "GET" &&
                   (r.target == "/crm/v3/objects/contacts?limit=1" || r.target == "/v3/scopes" ||
                    r.target == "/calendar/v3/calendars/team%40pixelcraft.example");
      if (!probe)
        out.push_back(r);
    }
    return out;
  }

  /// agent_logs rows of tool executions: action -> status.
  /// The tool executions logged, once `expected` rows are there (within 10 s): a tool's
  /// `agent_logs` row is written after it answers, so it may land after the chat reply.
  std::vector<std::pair<std::string, std::string>> tool_logs(size_t expected) {
    std::vector<std::pair<std::string, std::string>> out;
    eventually([&] { return (out = tool_logs_now()).size() >= expected; }, 10);
    return out;
  }

  std::vector<std::pair<std::string, std::string>> tool_logs_now() {
    pqxx::connection c{dsn};
    pqxx::read_transaction t{c};
    std::vector<std::pair<std::string, std::string>> out;
    for (auto row : t.exec("SELECT action, status FROM agent_logs WHERE action LIKE"
                           " 'tool_execution:%' ORDER BY action"))
      out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    return out;
  }

  /// The tool results the model received in its last request.
  std::map<std::string, json> tool_results() {
    std::map<std::string, json> out;
    auto sent = model.requests();
    auto messages = sent.back()["messages"];
    for (auto& m : messages)
      if (m["role"] == "tool")
        out[m.value("tool_name", std::string{})] = json::parse(m["content"].get<std::string>());
    return out;
  }

  bool configure = true;
  fake_llm model;
  fake_vendors vendors{crm_key, email_key, calendar_key, calendar_id};
  std::string responses;
};

TEST_F(ToolsTest, StrategySessionIsBookedAndEmailed) {
  model.queue({calls(strategy_calls()), says("Booked for 1 December at 10:00; proposal sent.")});
  auto r = chat("digital_marketing", "Can we book a strategy session on Dec 1 at 10?");
  EXPECT_EQ(r["response"], "Booked for 1 December at 10:00; proposal sent.");
  EXPECT_EQ(r["metadata"]["tools_used"],
            json::array({"schedule_strategy_session", "send_marketing_proposal"}));
  // The model was offered the agent's tools, in Ollama's format.
  auto sent = model.requests();
  auto offered = sent.front()["tools"];
  ASSERT_EQ(offered.size(), 3u);
  EXPECT_EQ(offered[0]["type"], "function");
  // Google Calendar: free/busy in UTC, then the event with the attendee.
  auto fb = vendors.requests("POST", "/calendar/v3/freeBusy");
  ASSERT_EQ(fb.size(), 1u);
  EXPECT_EQ(fb[0].headers["authorization"], "Bearer " + calendar_key);
  EXPECT_EQ(fb[0].body["timeMin"], "2026-12-01T09:00:00Z");
  EXPECT_EQ(fb[0].body["timeMax"], "2026-12-01T09:45:00Z");
  auto ev = vendors.requests("POST", "/calendar/v3/calendars/team%40pixelcraft.example/events");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].target.find("sendUpdates=all"), std::string::npos);
  EXPECT_EQ(ev[0].body["attendees"][0]["email"], "ada@example.com");
  EXPECT_EQ(ev[0].body["start"]["dateTime"], "2026-12-01T09:00:00Z");
  EXPECT_EQ(ev[0].body["summary"], "PixelCraft strategy session");
  EXPECT_EQ(vendors.events().size(), 1u);
  // SendGrid: the proposal.
  auto mail = vendors.requests("POST", "/v3/mail/send");
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].headers["authorization"], "Bearer " + email_key);
  EXPECT_EQ(mail[0].headers["content-type"], "application/json");
  EXPECT_FALSE(mail[0].headers["idempotency-key"].empty());
  EXPECT_EQ(mail[0].body["personalizations"][0]["to"][0]["email"], "ada@example.com");
  EXPECT_EQ(mail[0].body["from"]["email"], "hello@pixelcraft.example");
  EXPECT_NE(mail[0].body["content"][0]["value"].get<std::string>().find("Local SEO"),
            std::string::npos);
  // The results went back to the model, and both executions are logged.
  auto results = tool_results();
  EXPECT_EQ(results["schedule_strategy_session"]["success"], true);
  EXPECT_FALSE(results["schedule_strategy_session"]["event_id"].get<std::string>().empty());
  EXPECT_EQ(results["send_marketing_proposal"]["success"], true);
  EXPECT_EQ(tool_logs(2), (std::vector<std::pair<std::string, std::string>>{
                              {"tool_execution:schedule_strategy_session", "success"},
                              {"tool_execution:send_marketing_proposal", "success"}}));
}

TEST_F(ToolsTest, WithoutKeysBothToolsAreSkippedAndNothingIsCalled) {
  ASSERT_EQ(srv.stop(), 0);
  configure = false;
  start_server(base_env());
  model.queue({calls(strategy_calls()),
               says("I could not book the session or send the proposal: those services are "
                    "not set up. The team will contact you.")});
  auto r = chat("digital_marketing", "Book a strategy session please");
  auto results = tool_results();
  for (auto name : {"schedule_strategy_session", "send_marketing_proposal"}) {
    EXPECT_EQ(results[name]["success"], false) << name;
    EXPECT_EQ(results[name]["skipped"], true) << name;
    EXPECT_EQ(results[name]["reason"], "not_configured") << name;
  }
  EXPECT_TRUE(tool_requests().empty());
  EXPECT_EQ(tool_logs(2), (std::vector<std::pair<std::string, std::string>>{
                              {"tool_execution:schedule_strategy_session", "skipped"},
                              {"tool_execution:send_marketing_proposal", "skipped"}}));
  auto health = json::parse(get("/health").body)["services"];
  EXPECT_EQ(health["hubspot"]["status"], "not_configured");
  EXPECT_EQ(health["google_calendar"]["status"], "not_configured");
}

TEST_F(ToolsTest, OffListAndSchemaInvalidCallsAreNeverExecuted) {
  // The chat agent has no tools; web_development may not send marketing proposals.
  model.queue({calls(json::array({tool_call(
                   "schedule_strategy_session",
                   {{"attendee_email", "a@b.co"}, {"start_time", "2026-12-01T10:00:00Z"}})})),
               says("ok")});
  chat("chat", "book me");
  EXPECT_EQ(tool_results()["schedule_strategy_session"]["success"], false);
  model.queue({calls(json::array({tool_call("schedule_technical_consultation",
                                            {{"attendee_email", "not-an-email"},
                                             {"start_time", "tomorrow at ten"},
                                             {"rm -rf", true}})})),
               says("ok")});
  chat("web_development", "book a consultation");
  auto invalid = tool_results()["schedule_technical_consultation"];
  EXPECT_EQ(invalid["error"], "invalid arguments");
  EXPECT_EQ(invalid["problems"].size(), 3u) << invalid;
  EXPECT_TRUE(tool_requests().empty()) << "nothing may reach a vendor";
  EXPECT_EQ(tool_logs(2), (std::vector<std::pair<std::string, std::string>>{
                              {"tool_execution:schedule_strategy_session", "error"},
                              {"tool_execution:schedule_technical_consultation", "error"}}));
}

TEST_F(ToolsTest, HubSpotDuplicateContactIsFoundAndUpdatedThenADealIsAssociated) {
  vendors.add_contact("ada@example.com", "42");
  model.queue(
      {calls(json::array({tool_call("create_marketing_lead", {{"email", "ada@example.com"},
                                                              {"name", "Ada Lovelace"},
                                                              {"company", "Analytical Bakes"},
                                                              {"monthly_budget", 2500},
                                                              {"summary", "SEO and ads"}})})),
       says("Noted!")});
  chat("digital_marketing", "Please add me as a lead");
  auto all = tool_requests();
  std::vector<std::string> seq;
  for (auto& r : all)
    seq.push_back(r.method + " " + r.target);
  EXPECT_EQ(seq, (std::vector<std::string>{
                     "POST /crm/v3/objects/contacts", "POST /crm/v3/objects/contacts/search",
                     "PATCH /crm/v3/objects/contacts/42", "POST /crm/v3/objects/deals"}));
  EXPECT_EQ(all[0].headers["authorization"], "Bearer " + crm_key);
  EXPECT_EQ(all[0].body["properties"]["firstname"], "Ada");
  EXPECT_EQ(all[0].body["properties"]["lastname"], "Lovelace");
  EXPECT_EQ(all[1].body["filterGroups"][0]["filters"][0]["value"], "ada@example.com");
  EXPECT_EQ(all[3].body["associations"][0]["to"]["id"], "42");
  EXPECT_EQ(all[3].body["properties"]["amount"], 2500);
  auto result = tool_results()["create_marketing_lead"];
  EXPECT_EQ(result["contact_action"], "updated");
  EXPECT_EQ(result["contact_id"], "42");
}

TEST_F(ToolsTest, RetriesOn5xxAnd429ButNotOnOther4xx) {
  auto proposal = json::array({tool_call(
      "send_marketing_proposal", {{"to_email", "ada@example.com"}, {"proposal_summary", "x"}})});
  vendors.fail("POST", "/v3/mail/send", 500, 2);
  model.queue({calls(proposal), says("sent")});
  chat("digital_marketing", "send it");
  auto mails = vendors.requests("POST", "/v3/mail/send");
  ASSERT_EQ(mails.size(), 3u);
  EXPECT_EQ(mails[0].headers["idempotency-key"], mails[2].headers["idempotency-key"]);
  EXPECT_EQ(tool_results()["send_marketing_proposal"]["success"], true);

  vendors.fail("POST", "/v3/mail/send", 429, 1, 1);
  model.queue({calls(proposal), says("sent")});
  auto t0 = std::chrono::steady_clock::now();
  chat("digital_marketing", "send it again");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900))
      << "Retry-After: 1 must be honoured";
  EXPECT_EQ(vendors.requests("POST", "/v3/mail/send").size(), 5u);

  vendors.fail("POST", "/v3/mail/send", 400, 1);
  model.queue({calls(proposal), says("failed")});
  chat("digital_marketing", "and again");
  EXPECT_EQ(vendors.requests("POST", "/v3/mail/send").size(), 6u) << "a 400 is not retried";
  EXPECT_EQ(tool_results()["send_marketing_proposal"]["success"], false);
}

TEST_F(ToolsTest, RetryLimitThenTheCircuitOpens) {
  vendors.fail("POST", "/v3/mail/send", 503, 100);
  auto proposal = json::array({tool_call(
      "send_marketing_proposal", {{"to_email", "ada@example.com"}, {"proposal_summary", "x"}})});
  for (int i = 0; i < 2; ++i) {
    model.queue({calls(proposal), says("failed")});
    chat("digital_marketing", "send");
    EXPECT_EQ(tool_results()["send_marketing_proposal"]["success"], false);
  }
  EXPECT_EQ(vendors.requests("POST", "/v3/mail/send").size(), 6u); // 2 x (1 + 2 retries)
  model.queue({calls(proposal), says("failed")});
  chat("digital_marketing", "send");
  EXPECT_EQ(vendors.requests("POST", "/v3/mail/send").size(), 6u) << "an open circuit fails fast";
  EXPECT_NE(tool_results()["send_marketing_proposal"]["error"].get<std::string>().find("circuit"),
            std::string::npos);
  // /health coalesces checks within a second: poll briefly for the new state.
  json sendgrid;
  for (int i = 0; i < 30; ++i) {
    sendgrid = json::parse(get("/health").body)["services"]["sendgrid"];
    if (sendgrid.value("circuit", std::string{}) == "open")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(sendgrid["status"], "unhealthy");
  EXPECT_EQ(sendgrid["circuit"], "open");
}

TEST_F(ToolsTest, ARetriedCalendarInsertDoesNotDuplicateTheEvent) {
  // The first insert is stored but its response is lost (500): the retry gets 409 and reads
  // the event back instead of creating a second one.
  vendors.fail("POST", "/calendar/v3/calendars/", 500, 1, -1, true);
  model.queue({calls(json::array({strategy_calls()[0]})), says("booked")});
  chat("digital_marketing", "book");
  EXPECT_EQ(vendors.events().size(), 1u);
  EXPECT_EQ(
      vendors.requests("GET", "/calendar/v3/calendars/team%40pixelcraft.example/events/").size(),
      1u);
  EXPECT_EQ(tool_results()["schedule_strategy_session"]["success"], true);
}

TEST_F(ToolsTest, TemplateEmailAndInvokeReportTheToolsUsed) {
  model.queue(
      {calls(json::array({tool_call("send_marketing_proposal", {{"to_email", "ada@example.com"},
                                                                {"to_name", "Ada"},
                                                                {"proposal_summary", "SEO"},
                                                                {"template_id", "d-123"}})})),
       says("sent")});
  auto r = post("/api/agents/invoke",
                {{"agent_type", "digital_marketing"}, {"input_data", {{"message", "send it"}}}},
                {bearer(user_token())});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["result"]["tools_used"], json::array({"send_marketing_proposal"}));
  auto mail = vendors.requests("POST", "/v3/mail/send");
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].body["template_id"], "d-123");
  EXPECT_EQ(mail[0].body["personalizations"][0]["dynamic_template_data"]["summary"], "SEO");
  EXPECT_FALSE(mail[0].body.contains("content"));
}

TEST_F(ToolsTest, MeetingsCanBeRescheduledAndCancelled) {
  model.queue({calls(json::array({tool_call("schedule_qualification_call",
                                            {{"attendee_email", "ada@example.com"},
                                             {"start_time", "2026-12-02T15:00:00Z"}})})),
               says("booked")});
  chat("lead_qualification", "book a call");
  auto event_id = tool_results()["schedule_qualification_call"]["event_id"].get<std::string>();
  ASSERT_FALSE(event_id.empty());
  // Moving or cancelling an event always waits for a person (API.md §12): nothing is sent
  // until an admin approves, and then exactly the stored arguments run.
  model.queue({calls(json::array(
                   {tool_call("reschedule_meeting", {{"event_id", event_id},
                                                     {"start_time", "2026-12-03T09:30:00+01:00"},
                                                     {"duration_minutes", 45}})})),
               says("moved")});
  auto moved = chat("lead_qualification", "move it");
  EXPECT_NE(moved["response"].get<std::string>().find("Our team will review"), std::string::npos);
  EXPECT_TRUE(vendors.requests("PATCH", "/calendar/v3/calendars/").empty());
  auto held = tool_results()["reschedule_meeting"];
  EXPECT_EQ(held["pending"], true);
  auto move_id = held["approval_id"].get<std::string>();
  auto approved =
      post("/api/approvals/" + move_id, {{"decision", "approve"}}, {bearer(admin_token())});
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(json::parse(approved.body)["state"], "approved");
  EXPECT_EQ(json::parse(approved.body)["result"]["success"], true);
  auto patch = vendors.requests("PATCH", "/calendar/v3/calendars/");
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0].body["start"]["dateTime"], "2026-12-03T08:30:00Z");
  EXPECT_EQ(patch[0].body["end"]["dateTime"], "2026-12-03T09:15:00Z");
  model.queue({calls(json::array({tool_call("cancel_meeting", {{"event_id", event_id}})})),
               says("cancelled")});
  chat("lead_qualification", "cancel it");
  EXPECT_TRUE(vendors.requests("DELETE", "/calendar/v3/calendars/").empty());
  auto cancel_id = tool_results()["cancel_meeting"]["approval_id"].get<std::string>();
  approved = post("/api/approvals/" + cancel_id, {{"decision", "approve"}, {"note", "ok"}},
                  {bearer(admin_token())});
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(json::parse(approved.body)["result"]["success"], true);
  auto del = vendors.requests("DELETE", "/calendar/v3/calendars/");
  ASSERT_EQ(del.size(), 1u);
  EXPECT_NE(del[0].target.find(event_id), std::string::npos);
  EXPECT_TRUE(vendors.events().empty());
  // Decided once: a second decision is a conflict, and nothing runs again.
  EXPECT_EQ(post("/api/approvals/" + cancel_id, {{"decision", "approve"}}, {bearer(admin_token())})
                .status,
            409);
  EXPECT_EQ(vendors.requests("DELETE", "/calendar/v3/calendars/").size(), 1u);
}

TEST_F(ToolsTest, NoSecretAppearsInResponsesOrLogs) {
  model.queue({calls(strategy_calls()), says("done")});
  chat("digital_marketing", "book and send");
  responses += get("/health").body + get("/api/agents/metrics", {bearer(admin_token())}).body;
  ASSERT_EQ(srv.stop(), 0) << srv.stderr_text().substr(
      srv.stderr_text().size() > 3000 ? srv.stderr_text().size() - 3000 : 0);
  started = false;
  auto logs = srv.stderr_text() + srv.stdout_text();
  pqxx::connection c{dsn};
  pqxx::read_transaction t{c};
  std::string rows;
  for (auto row : t.exec("SELECT input_data::text || output_data::text || coalesce(error_message, "
                         "'') FROM agent_logs"))
    rows += row[0].as<std::string>();
  for (auto& key : {crm_key, email_key, calendar_key}) {
    EXPECT_EQ(logs.find(key), std::string::npos) << key;
    EXPECT_EQ(responses.find(key), std::string::npos) << key;
    EXPECT_EQ(rows.find(key), std::string::npos) << key;
  }
}

} // namespace pixelcraft::test
