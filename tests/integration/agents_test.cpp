// Agents and models (API.md §5) and model-backed lead analysis (§6).
#include "tests/fakes/fake_llm.hpp"
#include "tests/integration/server_fixture.hpp"
#include "tests/support/eventually.hpp"

namespace pixelcraft::test {

class AgentsTest : public ServerTest {
public:
  std::map<std::string, std::string> base_env() const override {
    auto env = ServerTest::base_env();
    env["OLLAMA_HOST"] = model.url();
    env["OLLAMA_MODEL"] = "llama3.2";
    return env;
  }
  fake_llm model;
};

TEST_F(AgentsTest, CatalogueListsTheNineAgents) {
  auto r = get("/api/agents");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["total"], j["agents"].size());
  std::vector<std::string> ids;
  for (auto& a : j["agents"]) {
    ids.push_back(a["agent_id"]);
    EXPECT_EQ(a["type"], a["agent_id"]);
    for (auto k : {"name", "description", "capabilities", "tools", "status"})
      EXPECT_TRUE(a.contains(k)) << k;
    EXPECT_EQ(a["status"], "active") << a; // the fake lists llama3.2:latest
    EXPECT_FALSE(a.contains("model"));
  }
  for (auto id : {"chat", "lead_qualification", "service_recommendation", "web_development",
                  "digital_marketing", "brand_design", "ecommerce_solutions", "content_creation",
                  "analytics_consulting"})
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
}

TEST_F(AgentsTest, DetailHealthAndUnknown) {
  auto d = json::parse(get("/api/agents/digital_marketing").body);
  EXPECT_EQ(d["model"], "llama3.2");
  EXPECT_TRUE(d["temperature"].is_number());
  EXPECT_TRUE(d["max_tokens"].is_number());
  std::vector<std::string> tools;
  for (auto& t : d["tools"]) {
    tools.push_back(t["name"]);
    EXPECT_EQ(t["parameters"]["type"], "object");
  }
  EXPECT_EQ(tools, (std::vector<std::string>{"create_marketing_lead", "send_marketing_proposal",
                                             "schedule_strategy_session"}));
  EXPECT_EQ(get("/api/agents/astrology").status, 404);
  auto h = get("/api/agents/health");
  ASSERT_EQ(h.status, 200);
  auto health = json::parse(h.body);
  EXPECT_EQ(health["chat"]["status"], "active");
  EXPECT_EQ(health["chat"]["instances"], 0);
  post("/api/chat/message", {{"message", "hi"}});
  EXPECT_EQ(json::parse(get("/api/agents/health").body)["chat"]["instances"], 1);
  EXPECT_EQ(call("POST", "/api/agents/health").status, 405);
}

TEST_F(AgentsTest, InvokeNeedsAUserAndAnswers) {
  json body = {{"agent_type", "web_development"},
               {"input_data", {{"message", "How long does a shop take?"}, {"pages", 12}}}};
  EXPECT_EQ(post("/api/agents/invoke", body).status, 401);
  auto r = post("/api/agents/invoke", body, {bearer(user_token())});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["agent_id"], "web_development");
  EXPECT_EQ(j["status"], "success");
  EXPECT_EQ(j["result"]["content"], "Hello from the fake model.");
  EXPECT_TRUE(j["result"]["tools_used"].is_array());
  EXPECT_TRUE(j["execution_time"].is_number());
  EXPECT_TRUE(j["conversation_id"].is_string());
  auto sent = model.requests().back()["messages"];
  bool has_context = false;
  for (auto& m : sent)
    has_context =
        has_context || m["content"].get<std::string>().find("\"pages\":12") != std::string::npos;
  EXPECT_TRUE(has_context) << sent;
  EXPECT_EQ(post("/api/agents/invoke", {{"agent_type", "nobody"}}, {bearer(user_token())}).status,
            404);
  EXPECT_EQ(post("/api/agents/invoke", {{"input_data", 3}}, {bearer(user_token())}).status, 422);
}

TEST_F(AgentsTest, MetricsComeFromAgentLogs) {
  EXPECT_EQ(get("/api/agents/metrics", {bearer(user_token())}).status, 403);
  post("/api/chat/message", {{"message", "one"}});
  post("/api/chat/message", {{"message", "two"}});
  // The log rows are written after each reply (never delaying it): wait for both.
  json chat;
  http_result r;
  EXPECT_TRUE(eventually(
      [&] {
        r = get("/api/agents/metrics", {bearer(admin_token())});
        auto metrics = json::parse(r.body)["metrics"];
        for (auto& m : metrics)
          if (m["agent_id"] == "chat")
            chat = m;
        return !chat.is_null() && chat["total_interactions"] == 2;
      },
      10));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_FALSE(chat.is_null()) << r.body;
  EXPECT_EQ(chat["total_interactions"], 2);
  EXPECT_DOUBLE_EQ(chat["success_rate"].get<double>(), 1.0);
  EXPECT_TRUE(chat["avg_response_time_ms"].is_number());
  EXPECT_EQ(chat["last_active"].get<std::string>().back(), 'Z');
}

TEST_F(AgentsTest, ModelsReportHealthAndMetrics) {
  post("/api/chat/message", {{"message", "hi"}});
  auto r = get("/api/models");
  ASSERT_EQ(r.status, 200) << r.body;
  json llama;
  auto models = json::parse(r.body)["models"];
  for (auto& m : models)
    if (m["name"] == "llama3.2")
      llama = m;
  ASSERT_FALSE(llama.is_null()) << r.body;
  EXPECT_EQ(llama["provider"], "ollama");
  EXPECT_EQ(llama["healthy"], true);
  EXPECT_EQ(llama["metrics"]["total_requests"], 1);
  EXPECT_DOUBLE_EQ(llama["metrics"]["success_rate"].get<double>(), 1.0);
  EXPECT_EQ(llama["metrics"]["tokens_out"], 5);
  EXPECT_EQ(get("/api/models/llama3.2").status, 200);
  EXPECT_EQ(get("/api/models/nope").status, 404);
}

TEST_F(AgentsTest, ModelMetricsReachPrometheus) {
  post("/api/chat/message", {{"message", "hi"}});
  auto m = get("/metrics").body;
  EXPECT_NE(m.find("pixelcraft_llm_requests_total{model=\"llama3.2\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("pixelcraft_llm_tokens_total{model=\"llama3.2\",direction=\"out\"} 5"),
            std::string::npos);
}

TEST_F(AgentsTest, ServiceRecommendationIsValidatedOrAnHonestFallback) {
  fake_llm_script s;
  s.tokens = {R"({"recommended_services": [{"service": "ecommerce_solutions", "rationale": "They)",
              R"( sell online", "priority": 1}], "missing_information": ["budget"]})"};
  model.script(s);
  json body = {{"agent_type", "service_recommendation"},
               {"input_data", {{"message", "We want a website and a shop for our bakery"}}}};
  auto r = post("/api/agents/invoke", body, {bearer(user_token())});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["result"]["metadata"]["method"], "llm");
  EXPECT_EQ(j["result"]["recommendations"]["recommended_services"][0]["service"],
            "ecommerce_solutions");
  EXPECT_TRUE(model.requests().back()["format"].is_object());

  s.tokens = {"I think you need many things!"}; // not the JSON asked for
  model.script(s);
  auto f = json::parse(post("/api/agents/invoke", body, {bearer(user_token())}).body);
  EXPECT_EQ(f["result"]["metadata"]["method"], "keywords");
  EXPECT_NE(f["result"]["content"].get<std::string>().find("Keyword-based fallback"),
            std::string::npos);
  std::vector<std::string> services;
  for (auto& x : f["result"]["recommendations"]["recommended_services"])
    services.push_back(x["service"]);
  EXPECT_EQ(services, (std::vector<std::string>{"web_development", "ecommerce_solutions"}));
}

TEST_F(AgentsTest, LeadAnalysisCombinesAValidModelAnswer) {
  fake_llm_script s;
  s.tokens = {R"({"score": 60, "confidence": 0.8, "recommended_services": ["web_development"],)",
              R"( "key_insights": ["Clear need"], "suggested_actions": ["Call today"],)",
              R"( "estimated_value": 15000})"};
  model.script(s);
  auto r = post("/api/leads/submit", valid_lead());
  ASSERT_EQ(r.status, 201) << r.body;
  auto a = json::parse(r.body)["analysis"];
  EXPECT_EQ(a["method"], "rules+llm");
  // round(0.4 * 86 + 0.6 * 60) = round(70.4) = 70
  EXPECT_EQ(a["lead_score"]["score"], 70);
  EXPECT_EQ(a["lead_score"]["priority"], "high");
  EXPECT_DOUBLE_EQ(a["lead_score"]["confidence"].get<double>(), 0.8);
  EXPECT_EQ(a["lead_score"]["factors"]["budget"], 25);
  EXPECT_EQ(a["estimated_value"], 15000);
  EXPECT_EQ(a["key_insights"], json::array({"Clear need"}));
  auto sent = model.requests().back();
  EXPECT_TRUE(sent["format"].is_object()) << "a JSON schema goes to Ollama's format";
}

TEST_F(AgentsTest, InvalidModelOutputFallsBackToTheRules) {
  fake_llm_script s;
  s.tokens = {R"({"score": 250, "confidence": "high"})"};
  model.script(s);
  auto r = post("/api/leads/submit", valid_lead());
  ASSERT_EQ(r.status, 201) << r.body;
  auto a = json::parse(r.body)["analysis"];
  EXPECT_EQ(a["method"], "rules");
  EXPECT_EQ(a["lead_score"]["score"], 86);
}

} // namespace pixelcraft::test
