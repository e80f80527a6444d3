// Workflows (API.md §7) end to end against the fake model.
#include "tests/fakes/fake_llm.hpp"
#include "tests/integration/server_fixture.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/ws_client.hpp"

#include <map>
#include <set>
#include <thread>

namespace pixelcraft::test {

namespace {

json rich_lead() {
  return {{"name", "Ada"},
          {"email", "ada@example.com"},
          {"company", "Acme"},
          {"message", "We need a new website with a shop and better SEO for our bakery"},
          {"services_interested", {"web_development", "digital_marketing"}},
          {"budget_range", "10000-25000"},
          {"timeline", "1-3_months"},
          {"source", "contact_form"}};
}

json seed_rules() {
  return {{"conditions",
           {{{"field", "metadata.lead_score"},
             {"operator", ">"},
             {"value", 70},
             {"next_agent", "web_development"}}}},
          {"default", "chat"}};
}

/// The seed's conditional example: a rich lead is qualified, then routed by its score.
json seed_workflow() {
  return {{"workflow_type", "conditional"},
          {"participating_agents", {"lead_qualification", "web_development", "chat"}},
          {"workflow_config", {{"routing_rules", seed_rules()}}},
          {"input_data", {{"message", "Qualify"}, {"lead_data", rich_lead()}}}};
}

} // namespace

class WorkflowTest : public ServerTest {
public:
  std::map<std::string, std::string> base_env() const override {
    auto env = ServerTest::base_env();
    env["OLLAMA_HOST"] = model.url();
    env["OLLAMA_MODEL"] = "llama3.2";
    env["WORKFLOW_LEASE_S"] = "2";
    return env;
  }

  http_result execute(json body, const std::string& query = "?wait=30",
                      const std::string& token = user_token()) {
    return post("/api/agents/workflows/execute" + query, body, {bearer(token)});
  }

  json run(json body) {
    auto r = execute(std::move(body));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  json get_wf(const std::string& id) {
    return json::parse(get("/api/agents/workflows/" + id, {bearer(user_token())}).body);
  }

  http_result action(const std::string& id, const std::string& what) {
    return call("PATCH", "/api/agents/workflows/" + id + "/state", json{{"action", what}}.dump(),
                {bearer(user_token())});
  }

  /// Model calls per agent, told apart by the start of their system prompt.
  int calls_for(const std::string& prompt_start) {
    int n = 0;
    for (auto& r : model.requests())
      n += r["messages"][0]["content"].get<std::string>().rfind(prompt_start, 0) == 0;
    return n;
  }

  fake_llm model;
};

TEST_F(WorkflowTest, SequentialRunsEachAgentInOrderWithPreviousResults) {
  auto wf = run({{"workflow_type", "sequential"},
                 {"participating_agents", {"service_recommendation", "web_development"}},
                 {"input_data", {{"message", "Plan a bakery website"}, {"city", "Lyon"}}}});
  EXPECT_EQ(wf["current_state"], "completed");
  EXPECT_EQ(wf["execution_path"], json::array({"service_recommendation", "web_development"}));
  EXPECT_EQ(wf["current_step"], 2);
  EXPECT_EQ(wf["results"]["web_development"]["content"], "Hello from the fake model.");
  EXPECT_TRUE(wf["completed_at"].is_string());
  EXPECT_TRUE(wf["execution_time_ms"].is_number());
  EXPECT_TRUE(wf["error_message"].is_null());
  auto second = model.requests().at(1)["messages"];
  std::string all;
  for (auto& m : second)
    all += m["content"].get<std::string>();
  EXPECT_NE(all.find("previous_results"), std::string::npos);
  EXPECT_NE(all.find("Lyon"), std::string::npos);
  EXPECT_EQ(second.back()["content"], "Plan a bakery website");
}

TEST_F(WorkflowTest, TheSeedConditionalRoutesByLeadScore) {
  auto high = run({{"workflow_type", "conditional"},
                   {"participating_agents", {"lead_qualification", "web_development", "chat"}},
                   {"workflow_config", {{"routing_rules", seed_rules()}}},
                   {"input_data", {{"message", "Qualify this lead"}, {"lead_data", rich_lead()}}}});
  EXPECT_EQ(high["current_state"], "completed");
  EXPECT_EQ(high["execution_path"], json::array({"lead_qualification", "web_development"}));
  EXPECT_EQ(high["results"]["lead_qualification"]["metadata"]["lead_score"], 86);
  auto low_lead =
      json{{"name", "Bo"}, {"email", "bo@example.com"}, {"message", "hi"}, {"source", "chat"}};
  auto low = run({{"workflow_type", "conditional"},
                  {"participating_agents", {"lead_qualification", "web_development", "chat"}},
                  {"workflow_config", {{"routing_rules", seed_rules()}}},
                  {"input_data", {{"message", "Qualify this lead"}, {"lead_data", low_lead}}}});
  EXPECT_EQ(low["execution_path"], json::array({"lead_qualification", "chat"}));
}

TEST_F(WorkflowTest, ConditionalLoopsAreBoundedByMaxSteps) {
  json rules = {{"conditions",
                 {{{"field", "content"}, {"operator", "exists"}, {"next_agent", "chat"}},
                  {{"field", "content"},
                   {"operator", "exists"},
                   {"next_agent", "chat"},
                   {"after", "chat"}}}}};
  auto wf = run({{"workflow_type", "conditional"},
                 {"participating_agents", {"chat"}},
                 {"workflow_config", {{"routing_rules", rules}, {"max_steps", 3}}}});
  EXPECT_EQ(wf["current_state"], "failed");
  EXPECT_NE(wf["error_message"].get<std::string>().find("max_steps"), std::string::npos);
  EXPECT_EQ(wf["execution_path"].size(), 3u);
}

TEST_F(WorkflowTest, AgentsShareMemoryAndRoutingReadsIt) {
  fake_llm_script remember;
  remember.tokens = {};
  remember.tool_calls = json::array(
      {{{"function",
         {{"name", "remember"}, {"arguments", {{"key", "budget"}, {"value", 30000}}}}}}});
  fake_llm_script recall;
  recall.tokens = {};
  recall.tool_calls =
      json::array({{{"function", {{"name", "recall"}, {"arguments", {{"key", "budget"}}}}}}});
  fake_llm_script text;
  text.tokens = {"noted"};
  model.queue({remember, text, recall, text});
  json rules = {{"conditions",
                 {{{"field", "memory.budget"},
                   {"operator", ">="},
                   {"value", 25000},
                   {"next_agent", "web_development"}}}},
                {"default", "chat"}};
  auto wf = run({{"workflow_type", "conditional"},
                 {"participating_agents", {"service_recommendation", "web_development", "chat"}},
                 {"workflow_config", {{"routing_rules", rules}}},
                 {"input_data", {{"message", "Plan it"}}}});
  EXPECT_EQ(wf["execution_path"], json::array({"service_recommendation", "web_development"}));
  // The second agent read the value back with recall.
  auto sent = model.requests();
  std::string seen;
  for (auto& m : sent.at(3)["messages"])
    if (m["role"] == "tool")
      seen += m["content"].get<std::string>();
  EXPECT_NE(seen.find("30000"), std::string::npos) << seen;
  auto id = wf["workflow_id"].get<std::string>();
  auto items = json::parse(
      get("/api/agents/workflows/" + id + "/memory", {bearer(user_token())}).body)["items"];
  json budget;
  for (auto& i : items)
    if (i["key"] == "budget")
      budget = i;
  ASSERT_FALSE(budget.is_null()) << items;
  EXPECT_EQ(budget["value"], 30000);
  EXPECT_EQ(budget["created_by_agent"], "service_recommendation");
  auto viz = json::parse(
      get("/api/agents/workflows/" + id + "/visualization", {bearer(user_token())}).body);
  bool event = false;
  for (auto& e : viz["execution_timeline"])
    event = event || e["event"] == "memory_updated";
  EXPECT_TRUE(event);
  // Outside a workflow the memory tools are refused.
  model.queue({remember, text});
  post("/api/chat/message", {{"message", "remember this"}});
  auto last = model.requests().back()["messages"];
  std::string refused;
  for (auto& m : last)
    if (m["role"] == "tool")
      refused += m["content"].get<std::string>();
  EXPECT_NE(refused.find("only available inside a workflow"), std::string::npos) << refused;
}

TEST_F(WorkflowTest, ParallelRunsAllAgents) {
  auto wf =
      run({{"workflow_type", "parallel"},
           {"participating_agents", {"brand_design", "content_creation", "analytics_consulting"}},
           {"input_data", {{"message", "Ideas for a relaunch"}}}});
  EXPECT_EQ(wf["current_state"], "completed");
  EXPECT_EQ(wf["results"].size(), 3u);
  EXPECT_EQ(wf["execution_path"].size(), 3u);
  EXPECT_EQ(model.chat_calls(), 3);
}

TEST_F(WorkflowTest, CollaborativeStopsAtMaxRoundsOrWhenFinal) {
  auto wf = run({{"workflow_type", "collaborative"},
                 {"participating_agents", {"digital_marketing", "content_creation"}},
                 {"workflow_config", {{"max_rounds", 2}}},
                 {"input_data", {{"message", "A launch campaign"}}}});
  EXPECT_EQ(wf["current_state"], "completed");
  EXPECT_EQ(wf["execution_path"].size(), 4u);
  EXPECT_EQ(wf["results"]["collaboration"]["stopped_at_max_rounds"], true);
  auto id = wf["workflow_id"].get<std::string>();
  auto msgs = json::parse(
      get("/api/agents/workflows/" + id + "/messages?message_type=handoff", {bearer(user_token())})
          .body);
  EXPECT_EQ(msgs["total"], 3);
  EXPECT_EQ(msgs["items"][0]["from_agent"], "digital_marketing");
  EXPECT_EQ(msgs["items"][0]["to_agent"], "content_creation");
  EXPECT_EQ(msgs["items"][0]["status"], "processed");

  fake_llm_script s;
  s.tokens = {"Here is the plan. [FINAL]"};
  model.script(s);
  auto fin = run({{"workflow_type", "collaborative"},
                  {"participating_agents", {"digital_marketing", "content_creation"}}});
  EXPECT_EQ(fin["execution_path"].size(), 1u);
  EXPECT_EQ(fin["results"]["collaboration"]["final_by"], "digital_marketing");
}

TEST_F(WorkflowTest, AgentsMessageEachOtherUntilNoWorkIsLeft) {
  auto send = [](const std::string& to, const std::string& type, json content) {
    return json{
        {"function",
         {{"name", "send_message"},
          {"arguments", {{"to_agent", to}, {"message_type", type}, {"content", content}}}}}};
  };
  auto says = [](const std::string& text) {
    fake_llm_script s;
    s.tokens = {text};
    return s;
  };
  fake_llm_script ask; // digital_marketing asks for a post, tells brand_design, and errs once
  ask.tokens = {};
  ask.tool_calls =
      json::array({send("content_creation", "request", {{"task", "Write the launch post"}}),
                   send("brand_design", "notification", {{"fyi", "Launch on Monday"}}),
                   send("chat", "request", {{"task", "not in this workflow"}})});
  fake_llm_script answer; // content_creation answers the request
  answer.tokens = {};
  answer.tool_calls =
      json::array({send("digital_marketing", "response", {{"post", "We launch Monday!"}})});
  model.queue({ask, says("Asked the team."), answer, says("Post written."), says("Noted."),
               says("Thanks, all done.")});
  auto wf =
      run({{"workflow_type", "collaborative"},
           {"participating_agents", {"digital_marketing", "content_creation", "brand_design"}},
           {"input_data", {{"message", "Prepare the launch"}}}});
  ASSERT_EQ(wf["current_state"], "completed") << wf;
  // Each agent worked when a message was waiting for it, and the run ended when none was.
  EXPECT_EQ(wf["execution_path"], json::array({"digital_marketing", "content_creation",
                                               "brand_design", "digital_marketing"}));
  EXPECT_EQ(wf["results"]["collaboration"]["no_work_left"], true) << wf["results"];
  auto sent = model.requests();
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_NE(sent[2].dump().find("Write the launch post"), std::string::npos);
  EXPECT_NE(sent[4].dump().find("Launch on Monday"), std::string::npos);
  EXPECT_NE(sent[5].dump().find("We launch Monday!"), std::string::npos);
  std::string refusal;
  for (auto& m : sent[1]["messages"])
    if (m["role"] == "tool")
      refusal += m["content"].get<std::string>();
  EXPECT_NE(refusal.find("another agent of this workflow"), std::string::npos) << refusal;

  // The mirror holds exactly the messages sent, each processed by the step that saw it.
  auto id = wf["workflow_id"].get<std::string>();
  auto list =
      json::parse(get("/api/agents/workflows/" + id + "/messages", {bearer(user_token())}).body);
  ASSERT_EQ(list["total"], 3) << list;
  std::map<std::string, json> by_type;
  for (auto& m : list["items"]) {
    by_type[m["message_type"].get<std::string>()] = m;
    EXPECT_EQ(m["status"], "processed") << m;
    EXPECT_TRUE(m["processed_at"].is_string()) << m;
    EXPECT_EQ(m["workflow_execution_id"], id);
  }
  EXPECT_EQ(by_type["request"]["from_agent"], "digital_marketing");
  EXPECT_EQ(by_type["request"]["to_agent"], "content_creation");
  EXPECT_EQ(by_type["request"]["content"]["task"], "Write the launch post");
  EXPECT_EQ(by_type["notification"]["to_agent"], "brand_design");
  EXPECT_EQ(by_type["response"]["from_agent"], "content_creation");
  EXPECT_EQ(by_type["response"]["to_agent"], "digital_marketing");
  auto viz = json::parse(
      get("/api/agents/workflows/" + id + "/visualization", {bearer(user_token())}).body);
  EXPECT_EQ(viz["agent_interactions"].size(), 3u);
  int message_events = 0;
  for (auto& e : viz["execution_timeline"])
    message_events += e["event"] == "agent_message";
  EXPECT_EQ(message_events, 3);
}

TEST_F(WorkflowTest, PauseResumeCancelAndConflicts) {
  fake_llm_script slow;
  slow.tokens = {"a", "b", "c"};
  slow.token_delay = std::chrono::milliseconds(150);
  model.script(slow);
  auto started = execute({{"workflow_type", "sequential"},
                          {"participating_agents", {"chat", "brand_design", "content_creation"}}},
                         "");
  ASSERT_EQ(started.status, 202) << started.body;
  auto id = json::parse(started.body)["workflow_id"].get<std::string>();
  auto paused = action(id, "pause");
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(json::parse(paused.body)["current_state"], "paused");
  EXPECT_EQ(action(id, "pause").status, 200); // no change
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto during = get_wf(id);
  EXPECT_EQ(during["current_state"], "paused");
  EXPECT_LE(during["execution_path"].size(), 1u) << "a paused workflow starts no new step";
  // The node holding it (API.md §7, v1.1): this server, while it runs; nobody once it ended.
  EXPECT_TRUE(during["node"].is_string() && !during["node"].get<std::string>().empty())
      << during.dump();
  auto resumed = action(id, "resume");
  EXPECT_EQ(resumed.status, 200);
  EXPECT_TRUE(eventually([&] { return get_wf(id)["current_state"] == "completed"; }, 20));
  EXPECT_TRUE(get_wf(id)["node"].is_null());
  EXPECT_EQ(get_wf(id)["execution_path"].size(), 3u);
  EXPECT_EQ(action(id, "resume").status, 409);
  EXPECT_EQ(action(id, "pause").status, 409);
  EXPECT_EQ(action(id, "cancel").status, 409);

  auto second = execute(
      {{"workflow_type", "sequential"}, {"participating_agents", {"chat", "brand_design"}}}, "");
  auto id2 = json::parse(second.body)["workflow_id"].get<std::string>();
  auto cancelled = action(id2, "cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(json::parse(cancelled.body)["current_state"], "cancelled");
  EXPECT_EQ(action(id2, "cancel").status, 200);
  EXPECT_EQ(action(id2, "resume").status, 409);
  EXPECT_EQ(call("PATCH", "/api/agents/workflows/" + id2 + "/state", R"({"action":"explode"})",
                 {bearer(user_token())})
                .status,
            422);
}

TEST_F(WorkflowTest, MessagesMemoryAndVisualization) {
  fake_llm_script slow;
  slow.tokens = {"x"};
  slow.token_delay = std::chrono::milliseconds(300);
  model.script(slow);
  auto started = execute(
      {{"workflow_type", "sequential"}, {"participating_agents", {"chat", "web_development"}}}, "");
  auto id = json::parse(started.body)["workflow_id"].get<std::string>();
  json msg = {{"from_agent", "chat"},
              {"to_agent", "web_development"},
              {"message_type", "request"},
              {"content", {{"question", "Which CMS?"}}}};
  auto posted = post("/api/agents/workflows/" + id + "/messages", msg, {bearer(user_token())});
  ASSERT_EQ(posted.status, 201) << posted.body;
  auto m = json::parse(posted.body);
  EXPECT_EQ(m["status"], "delivered");
  EXPECT_EQ(m["workflow_execution_id"], id);
  auto bad = msg;
  bad["to_agent"] = "brand_design";
  EXPECT_EQ(post("/api/agents/workflows/" + id + "/messages", bad, {bearer(user_token())}).status,
            422);
  ASSERT_TRUE(eventually([&] { return get_wf(id)["current_state"] == "completed"; }, 20));
  // The target agent saw it in its step, and it is now processed.
  std::string seen;
  for (auto& r : model.requests())
    seen += r.dump();
  EXPECT_NE(seen.find("Which CMS?"), std::string::npos);
  auto list = json::parse(
      get("/api/agents/workflows/" + id + "/messages?message_type=request", {bearer(user_token())})
          .body);
  ASSERT_EQ(list["total"], 1);
  EXPECT_EQ(list["items"][0]["status"], "processed");
  EXPECT_EQ(post("/api/agents/workflows/" + id + "/messages", msg, {bearer(user_token())}).status,
            409);

  auto mem = get("/api/agents/workflows/" + id + "/memory", {bearer(user_token())});
  ASSERT_EQ(mem.status, 200);
  auto items = json::parse(mem.body)["items"];
  ASSERT_EQ(items.size(), 2u) << items; // each step wrote its outcome
  EXPECT_EQ(items[0]["scope"], "workflow");
  EXPECT_EQ(items[0]["version"], 1);
  EXPECT_TRUE(items[0]["value"].contains("metadata"));
  auto viz = json::parse(
      get("/api/agents/workflows/" + id + "/visualization", {bearer(user_token())}).body);
  EXPECT_EQ(viz["current_state"], "completed");
  EXPECT_EQ(viz["execution_graph"]["nodes"].size(), 2u);
  EXPECT_EQ(viz["execution_graph"]["nodes"][0]["status"], "completed");
  bool sequence_edge = false;
  for (auto& e : viz["execution_graph"]["edges"])
    sequence_edge = sequence_edge || (e["from"] == "chat" && e["to"] == "web_development" &&
                                      e["type"] == "sequence");
  EXPECT_TRUE(sequence_edge) << viz["execution_graph"];
  EXPECT_GE(viz["execution_timeline"].size(), 6u);
  EXPECT_EQ(viz["agent_interactions"].size(), 1u);
  EXPECT_EQ(viz["shared_memory_keys"].size(), 2u);
}

TEST_F(WorkflowTest, AGracefulStopDuringAStepEndsPromptlyAndTheRunResumesLater) {
  fake_llm_script slow;
  slow.tokens = {"a", "b", "c", "d"};
  slow.token_delay = std::chrono::milliseconds(700);
  model.script(slow);
  auto started = execute(
      {{"workflow_type", "sequential"}, {"participating_agents", {"chat", "brand_design"}}}, "");
  ASSERT_EQ(started.status, 202);
  auto id = json::parse(started.body)["workflow_id"].get<std::string>();
  ASSERT_TRUE(eventually([&] { return model.chat_calls() >= 1; }, 10)); // a step is in flight
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(srv.stop(), 0) << srv.stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  start_server(base_env());
  EXPECT_TRUE(eventually([&] { return get_wf(id)["current_state"] == "completed"; }, 60))
      << get_wf(id);
}

TEST_F(WorkflowTest, ValidationOwnershipAndLists) {
  json body = {{"workflow_type", "sequential"}, {"participating_agents", {"chat"}}};
  EXPECT_EQ(post("/api/agents/workflows/execute", body).status, 401);
  EXPECT_EQ(execute({{"workflow_type", "nope"}, {"participating_agents", {"ghost"}}}).status, 422);
  EXPECT_EQ(execute({{"workflow_type", "conditional"}, {"participating_agents", {"chat"}}}).status,
            422);
  EXPECT_EQ(
      execute({{"workflow_type", "sequential"}, {"participating_agents", json::array()}}).status,
      422);
  EXPECT_EQ(execute(body, "?wait=500").status, 422);
  auto mine = run(body);
  auto id = mine["workflow_id"].get<std::string>();
  EXPECT_EQ(get("/api/agents/workflows/" + id, {bearer(user_token("someone-else"))}).status, 404);
  EXPECT_EQ(get("/api/agents/workflows/" + id, {bearer(admin_token())}).status, 200);
  EXPECT_EQ(get("/api/agents/workflows/not-a-uuid", {bearer(user_token())}).status, 404);
  auto list = json::parse(
      get("/api/agents/workflows?workflow_type=sequential", {bearer(user_token())}).body);
  EXPECT_EQ(list["total"], 1);
  EXPECT_EQ(
      json::parse(get("/api/agents/workflows", {bearer(user_token("someone-else"))}).body)["total"],
      0);
}

// A sequential workflow whose steps take seconds survives kill -9 of the server: it resumes
// from its last completed step, and no completed step runs twice.
TEST_F(WorkflowTest, SurvivesKillNineAndResumesWithoutRepeatingSteps) {
  fake_llm_script slow;
  slow.tokens = {"step", " done"};
  slow.token_delay = std::chrono::milliseconds(1200);
  model.script(slow);
  auto started = execute(
      {{"workflow_type", "sequential"},
       {"participating_agents", {"brand_design", "content_creation", "analytics_consulting"}},
       {"input_data", {{"message", "Audit our brand"}}}},
      "");
  ASSERT_EQ(started.status, 202);
  auto id = json::parse(started.body)["workflow_id"].get<std::string>();
  ASSERT_TRUE(eventually([&] { return get_wf(id)["execution_path"].size() == 1; }, 20));
  // A monitor watching before the crash notes the last event it saw...
  int64_t seen = 0;
  {
    ws_client ws;
    ASSERT_EQ(ws.connect(srv.port(), "/api/ws/workflows/" + id + "?token=" + user_token()), 101);
    auto first = ws.next_text(5000);
    ASSERT_TRUE(first.has_value());
    seen = json::parse(*first)["seq"].get<int64_t>();
  }
  srv.kill9();
  start_server(base_env());
  // ... and resumes after it with since=N: the next frame is event N+1.
  ws_client resumed;
  ASSERT_EQ(resumed.connect(srv.port(), "/api/ws/workflows/" + id + "?since=" +
                                            std::to_string(seen) + "&token=" + user_token()),
            101);
  auto next = resumed.next_text(60000);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(json::parse(*next)["seq"].get<int64_t>(), seen + 1);
  ASSERT_TRUE(eventually([&] { return get_wf(id)["current_state"] == "completed"; }, 60))
      << get_wf(id).dump() << srv.stderr_text();
  auto wf = get_wf(id);
  EXPECT_EQ(wf["execution_path"],
            json::array({"brand_design", "content_creation", "analytics_consulting"}));
  EXPECT_EQ(calls_for("You are PixelCraft's brand design lead"), 1) << "a completed step ran again";
  EXPECT_EQ(calls_for("You are PixelCraft's analytics consultant"), 1);
}

} // namespace pixelcraft::test

// -- the live monitor (API.md §8) -------------------------------------------------------------

namespace pixelcraft::test {

namespace {

/// Reads workflow_update frames until `last` appears (or the timeout); pongs and pings skipped.
std::vector<json> read_updates(ws_client& ws, const std::string& last, int timeout_ms = 30000) {
  std::vector<json> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto frame = ws.next_text(2000);
    if (!frame)
      continue;
    auto j = json::parse(*frame);
    if (j["type"] != "workflow_update")
      continue;
    out.push_back(j);
    if (j["event_type"] == last)
      break;
  }
  return out;
}

} // namespace

TEST_F(WorkflowTest, MonitorsSeeIdenticalOrderedEventsAndCanResume) {
  fake_llm_script slow;
  slow.tokens = {"ok"};
  slow.token_delay = std::chrono::milliseconds(400);
  model.script(slow);
  auto started = execute(seed_workflow(), "");
  ASSERT_EQ(started.status, 202) << started.body;
  auto id = json::parse(started.body)["workflow_id"].get<std::string>();
  ws_client a, b;
  ASSERT_EQ(a.connect(srv.port(), "/api/ws/workflows/" + id + "?token=" + user_token()), 101);
  ASSERT_EQ(
      b.connect(srv.port(), "/api/ws/workflows/" + id, {"Authorization: Bearer " + user_token()}),
      101);
  auto ua = read_updates(a, "workflow_completed");
  auto ub = read_updates(b, "workflow_completed");
  ASSERT_FALSE(ua.empty());
  EXPECT_EQ(ua.front()["event_type"], "initial_state");
  // The execution as clients see it: none of the server's own fields.
  for (auto key : {"workflow_config", "input_data", "owner_id", "owner_admin", "last_event_seq"})
    EXPECT_FALSE(ua.front()["data"].contains(key)) << key;
  EXPECT_EQ(ua.back()["event_type"], "workflow_completed");
  // Every frame after initial_state continues the sequence by one.
  for (size_t i = 1; i < ua.size(); ++i)
    EXPECT_EQ(ua[i]["seq"].get<int64_t>(), ua[i - 1]["seq"].get<int64_t>() + 1) << ua[i];
  // Both monitors end with the same events in the same order.
  std::vector<std::pair<int64_t, std::string>> sa, sb;
  for (auto& u : ua)
    if (u["event_type"] != "initial_state")
      sa.emplace_back(u["seq"], u["event_type"]);
  for (auto& u : ub)
    if (u["event_type"] != "initial_state")
      sb.emplace_back(u["seq"], u["event_type"]);
  auto common_from = std::max(sa.empty() ? 0 : sa.front().first, sb.empty() ? 0 : sb.front().first);
  auto tail = [&](const std::vector<std::pair<int64_t, std::string>>& v) {
    std::vector<std::pair<int64_t, std::string>> t;
    for (auto& x : v)
      if (x.first >= common_from)
        t.push_back(x);
    return t;
  };
  EXPECT_EQ(tail(sa), tail(sb));
  // The model's output reached the monitor as output_delta before each step_completed.
  std::map<std::string, std::string> output;
  std::set<std::string> watched; // steps this monitor saw from their start
  int checked = 0;
  for (auto& u : ua) {
    if (u["event_type"] == "step_started")
      watched.insert(u["data"]["agent"]);
    if (u["event_type"] == "output_delta")
      output[u["data"]["agent"]] += u["data"]["text"].get<std::string>();
    if (u["event_type"] == "step_completed" && watched.count(u["data"]["agent"])) {
      EXPECT_EQ(output[u["data"]["agent"]], "ok") << u;
      ++checked;
    }
  }
  EXPECT_GE(checked, 1);
  // Resume with since=N: exactly the events after N, without initial_state.
  ws_client c;
  ASSERT_EQ(c.connect(srv.port(), "/api/ws/workflows/" + id + "?since=2&token=" + user_token()),
            101);
  auto uc = read_updates(c, "workflow_completed");
  ASSERT_FALSE(uc.empty());
  EXPECT_EQ(uc.front()["seq"], 3);
  EXPECT_NE(uc.front()["event_type"], "initial_state");
  EXPECT_EQ(uc.back()["seq"], ua.back()["seq"]);
  // Ping/pong, and a frame over 64 KiB closes the socket with 1009.
  ASSERT_TRUE(c.send_text(R"({"type":"ping"})"));
  auto pong = c.next_text(5000);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(json::parse(*pong)["type"], "pong");
  c.send_text(std::string(70 * 1024, 'x'));
  EXPECT_FALSE(c.next_text(5000).has_value());
  EXPECT_EQ(c.close_code(), 1009);
}

TEST_F(WorkflowTest, AMonitorThatFallsBehindIsClosedAndResumesWithSince) {
  srv.stop();
  auto env = base_env();
  env["MONITOR_BACKLOG_KIB"] = "1024"; // several output_delta frames: a reader keeps up
  // The server waits this long for a peer's close frame after queueing its own 1013 (RESTinio
  // counts from the queueing, not the writing): longer than the run, so that the slow reader,
  // which reads nothing until the run is over, still finds the 1013 behind its backlog.
  env["HEADER_TIMEOUT_S"] = "120";
  // Not a lease test: the fixture's 2 s lease can run out on a loaded machine while a step
  // streams 12.8 MB, and a resumed run starts the step again.
  env["WORKFLOW_LEASE_S"] = "30";
  start_server(env);
  // 6.4 MB in 400 frames at ~800 KB/s: more than the slow reader's buffers, the kernel's
  // (loopback send buffers autotune up to 4 MiB) and the 1 MiB backlog hold together.
  fake_llm_script big;
  big.tokens = std::vector<std::string>(400, std::string(16 * 1024, 'x'));
  big.token_delay = std::chrono::milliseconds(20);
  model.script(big);
  auto started = execute({{"workflow_type", "sequential"}, {"participating_agents", {"chat"}}}, "");
  ASSERT_EQ(started.status, 202) << started.body;
  auto id = json::parse(started.body)["workflow_id"].get<std::string>();
  auto target = "/api/ws/workflows/" + id + "?since=0&token=" + user_token();
  ws_client slow, fast;
  slow.receive_buffer(4096);
  ASSERT_EQ(slow.connect(srv.port(), target), 101);
  ASSERT_EQ(fast.connect(srv.port(), target), 101);
  // The fast monitor sees the whole run while the slow one reads nothing.
  auto seen = read_updates(fast, "workflow_completed", 60000);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back()["event_type"], "workflow_completed");
  EXPECT_EQ(get_wf(id)["current_state"], "completed");
  // The slow one got what was queued before it fell behind, then a 1013 close.
  int64_t last = 0;
  while (auto frame = slow.next_text(3000)) {
    auto j = json::parse(*frame);
    if (j["type"] == "workflow_update") {
      EXPECT_EQ(j["seq"].get<int64_t>(), last + 1);
      last = j["seq"].get<int64_t>();
    }
  }
  EXPECT_EQ(slow.close_code(), 1013);
  ASSERT_LT(last, seen.back()["seq"].get<int64_t>());
  // It resumes where it stopped and misses nothing.
  ws_client resumed;
  ASSERT_EQ(resumed.connect(srv.port(), "/api/ws/workflows/" + id + "?since=" +
                                            std::to_string(last) + "&token=" + user_token()),
            101);
  auto rest = read_updates(resumed, "workflow_completed", 60000);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.front()["seq"].get<int64_t>(), last + 1);
  EXPECT_EQ(rest.back()["seq"], seen.back()["seq"]);
}

// The issue's done-when: the seed's conditional example, watched live, survives kill -9.
TEST_F(WorkflowTest, TheSeedConditionalWatchedLiveSurvivesKillNine) {
  fake_llm_script slow;
  slow.tokens = {"assessed", " ok"};
  slow.token_delay = std::chrono::milliseconds(1200);
  model.script(slow);
  auto started = execute(seed_workflow(), "");
  ASSERT_EQ(started.status, 202) << started.body;
  auto id = json::parse(started.body)["workflow_id"].get<std::string>();
  int64_t seen = 0;
  {
    ws_client ws;
    ASSERT_EQ(ws.connect(srv.port(), "/api/ws/workflows/" + id + "?token=" + user_token()), 101);
    auto until = read_updates(ws, "step_completed", 30000);
    ASSERT_FALSE(until.empty());
    EXPECT_EQ(until.front()["event_type"], "initial_state");
    ASSERT_EQ(until.back()["event_type"], "step_completed");
    EXPECT_EQ(until.back()["data"]["agent"], "lead_qualification");
    seen = until.back()["seq"].get<int64_t>();
  }
  srv.kill9(); // while web_development (score > 70) is being routed to or running
  start_server(base_env());
  ws_client resumed;
  ASSERT_EQ(resumed.connect(srv.port(), "/api/ws/workflows/" + id + "?since=" +
                                            std::to_string(seen) + "&token=" + user_token()),
            101);
  auto rest = read_updates(resumed, "workflow_completed", 60000);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.front()["seq"].get<int64_t>(), seen + 1);
  EXPECT_EQ(rest.back()["event_type"], "workflow_completed");
  auto wf = get_wf(id);
  EXPECT_EQ(wf["current_state"], "completed");
  EXPECT_EQ(wf["execution_path"], json::array({"lead_qualification", "web_development"}));
  EXPECT_GT(wf["results"]["lead_qualification"]["metadata"]["lead_score"].get<int>(), 70);
  EXPECT_EQ(calls_for("You are PixelCraft's lead qualification specialist"), 1)
      << "a completed step ran again";
}

TEST_F(WorkflowTest, MonitorHandshakeRefusesBadTokensAndOthersWorkflows) {
  auto wf = run({{"workflow_type", "sequential"}, {"participating_agents", {"chat"}}});
  auto id = wf["workflow_id"].get<std::string>();
  ws_client none, bad, other, ok;
  EXPECT_EQ(none.connect(srv.port(), "/api/ws/workflows/" + id), 401);
  EXPECT_EQ(bad.connect(srv.port(), "/api/ws/workflows/" + id + "?token=garbage"), 401);
  EXPECT_EQ(
      other.connect(srv.port(), "/api/ws/workflows/" + id + "?token=" + user_token("mallory")),
      404);
  EXPECT_EQ(ok.connect(srv.port(), "/api/ws/workflows/" + id + "?token=" + user_token()), 101);
  auto first = ok.next_text(5000);
  ASSERT_TRUE(first.has_value());
  auto j = json::parse(*first);
  EXPECT_EQ(j["event_type"], "initial_state");
  EXPECT_EQ(j["data"]["current_state"], "completed");
  EXPECT_GT(j["seq"].get<int64_t>(), 0);
}

// RFC 6455 §4.2.1: `Upgrade` is compared in any case; a version other than 13 is a 426 that
// names 13 (§4.2.2); a missing version or a key that is not 16 bytes of base64 is a 400.
TEST_F(WorkflowTest, MonitorHandshakeFollowsRfc6455) {
  auto wf = run({{"workflow_type", "sequential"}, {"participating_agents", {"chat"}}});
  auto path = "/api/ws/workflows/" + wf["workflow_id"].get<std::string>();
  auto auth = bearer(user_token());
  for (const char* value : {"WebSocket", "WEBSOCKET", "h2c, websocket"}) {
    ws_client c;
    c.upgrade_value(value);
    EXPECT_EQ(c.connect(srv.port(), path + "?token=" + user_token()), 101) << value;
    EXPECT_TRUE(c.next_text(5000).has_value()) << value;
  }
  auto handshake = [&](std::string version, std::string key) {
    std::vector<std::string> h = {auth, "Upgrade: websocket", "Connection: Upgrade"};
    if (!version.empty())
      h.push_back("Sec-WebSocket-Version: " + version);
    if (!key.empty())
      h.push_back("Sec-WebSocket-Key: " + key);
    return get(path, h);
  };
  auto v8 = handshake("8", "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(v8.status, 426);
  EXPECT_EQ(v8.header("sec-websocket-version"), "13");
  EXPECT_EQ(handshake("", "dGhlIHNhbXBsZSBub25jZQ==").status, 400);
  EXPECT_EQ(handshake("13", "").status, 400);
  EXPECT_EQ(handshake("13", "not-a-key").status, 400);
  EXPECT_EQ(handshake("13", "dGhlIHNhbXBsZSBub25jZQ").status, 400);
  EXPECT_EQ(get(path, {auth, "Upgrade: h2c"}).status, 400);
}

} // namespace pixelcraft::test
