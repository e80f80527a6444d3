#include "http/validation.hpp"

#include <gtest/gtest.h>

using namespace pixelcraft::http;
using nlohmann::json;

namespace {

json valid_lead() {
  return {{"lead_data",
           {{"name", "Zoë O'Connor-Smith"},
            {"email", "zoe@example.co.uk"},
            {"company", "Acme"},
            {"phone", "+44 (20) 7946-0958"},
            {"message", "We need a new website."},
            {"services_interested", {"web_development"}},
            {"budget_range", "5000-10000"},
            {"timeline", "3-6_months"},
            {"source", "contact_form"}}}};
}

std::vector<std::string> locs(const validator& v) {
  std::vector<std::string> out;
  for (auto& e : v.detail())
    out.push_back(e["loc"].dump());
  return out;
}

} // namespace

TEST(ValidationTest, Emails) {
  for (auto ok : {"a@b.co", "first.last+tag@sub.example.com", "o'neil@example.ie"})
    EXPECT_TRUE(is_valid_email(ok)) << ok;
  for (auto bad : {"", "plain", "@example.com", "a@", "a@b", "a@b.c", "a b@c.com", "a@@b.com",
                   "a@-b.com", "a..b@c.com", ".a@b.com", "a@b.c0m", "a@b_c.com"})
    EXPECT_FALSE(is_valid_email(bad)) << bad;
}

TEST(ValidationTest, PhonesUuidsAndText) {
  EXPECT_TRUE(is_valid_phone("+1 (555) 010-0000"));
  EXPECT_TRUE(is_valid_phone("123"));
  EXPECT_FALSE(is_valid_phone("12"));
  EXPECT_FALSE(is_valid_phone("call me"));
  EXPECT_FALSE(is_valid_phone("++123"));
  EXPECT_TRUE(is_uuid("4787a34b-1e58-4764-888b-88963bd8b507"));
  EXPECT_FALSE(is_uuid("4787a34b1e584764888b88963bd8b507"));
  EXPECT_FALSE(is_uuid("zzzzzzzz-1e58-4764-888b-88963bd8b507"));
  EXPECT_EQ(utf8_length("Zoë"), 3u);
  EXPECT_TRUE(has_control_chars("a\x01", true));
  EXPECT_TRUE(has_control_chars("a\xC2\x85", true)); // U+0085, a C1 control
  EXPECT_FALSE(has_control_chars("line\nline", true));
  EXPECT_TRUE(has_control_chars("line\nline", false));
}

TEST(ValidationTest, ValidLeadBuildsRowAndSignals) {
  validator v;
  lead_submission s;
  ASSERT_TRUE(validate_lead_request(valid_lead(), v, s)) << v.detail().dump();
  EXPECT_TRUE(s.analyze);
  EXPECT_EQ(s.row["name"], "Zoë O'Connor-Smith");
  EXPECT_EQ(s.signals.budget_range, "5000-10000");
  EXPECT_EQ(s.signals.company, "Acme");
  EXPECT_EQ(s.signals.services.size(), 1u);
}

TEST(ValidationTest, EveryFailingFieldIsListed) {
  json body = {{"analyze", "yes"},
               {"lead_data",
                {{"name", "  "},
                 {"email", "nope"},
                 {"phone", "phone?"},
                 {"message", 42},
                 {"services_interested", {"ok", 3}},
                 {"budget_range", "a lot"},
                 {"timeline", "someday"},
                 {"source", "billboard"},
                 {"company", std::string(201, 'x')}}}};
  validator v;
  lead_submission s;
  EXPECT_FALSE(validate_lead_request(body, v, s));
  auto l = locs(v);
  for (auto want :
       {R"(["body","analyze"])", R"(["body","lead_data","name"])",
        R"(["body","lead_data","email"])", R"(["body","lead_data","phone"])",
        R"(["body","lead_data","message"])", R"(["body","lead_data","services_interested",1])",
        R"(["body","lead_data","budget_range"])", R"(["body","lead_data","timeline"])",
        R"(["body","lead_data","source"])", R"(["body","lead_data","company"])"})
    EXPECT_NE(std::find(l.begin(), l.end(), want), l.end()) << want << " in " << v.detail();
  EXPECT_EQ(l.size(), 10u) << v.detail();
}

TEST(ValidationTest, MissingFieldsAndWrongTypes) {
  validator v;
  lead_submission s;
  EXPECT_FALSE(validate_lead_request(json::object(), v, s));
  EXPECT_EQ(v.detail()[0]["type"], "missing");
  validator v2;
  EXPECT_FALSE(validate_lead_request({{"lead_data", {1, 2}}}, v2, s));
  EXPECT_EQ(v2.detail()[0]["type"], "dict_type");
  validator v3;
  EXPECT_FALSE(validate_lead_request({{"lead_data", json::object()}}, v3, s));
  EXPECT_EQ(v3.detail().size(), 4u) << v3.detail(); // name, email, message, source
  json many = valid_lead();
  many["lead_data"]["services_interested"] = json::array();
  for (int i = 0; i < 21; ++i)
    many["lead_data"]["services_interested"].push_back("s");
  validator v4;
  EXPECT_FALSE(validate_lead_request(many, v4, s));
  EXPECT_EQ(v4.detail()[0]["type"], "too_long");
  json name_ctrl = valid_lead();
  name_ctrl["lead_data"]["name"] = "Bob\u0007";
  validator v5;
  EXPECT_FALSE(validate_lead_request(name_ctrl, v5, s));
}

TEST(ValidationTest, LeadPatch) {
  json p;
  validator v;
  EXPECT_FALSE(validate_lead_patch(json::object(), v, p));
  validator v2;
  EXPECT_FALSE(validate_lead_patch({{"status", "won"}, {"metadata", 3}}, v2, p));
  EXPECT_EQ(v2.detail().size(), 2u);
  validator v3;
  ASSERT_TRUE(validate_lead_patch({{"status", "qualified"},
                                   {"assigned_to", nullptr},
                                   {"notes", "Called"},
                                   {"metadata", {{"a", 1}}}},
                                  v3, p));
  EXPECT_EQ(p["status"], "qualified");
  EXPECT_TRUE(p["assigned_to"].is_null());
  EXPECT_EQ(p["note"], "Called");
  EXPECT_EQ(p["metadata"]["a"], 1);
}

TEST(ValidationTest, QueryIntegers) {
  validator v;
  std::string ten = "10", big = "101", neg = "-1", text = "ten";
  EXPECT_EQ(query_int(nullptr, "limit", 50, 1, 100, v), 50);
  EXPECT_EQ(query_int(&ten, "limit", 50, 1, 100, v), 10);
  EXPECT_TRUE(v.ok());
  query_int(&big, "limit", 50, 1, 100, v);
  query_int(&neg, "offset", 0, 0, 1000, v);
  query_int(&text, "min_score", 0, 0, 100, v);
  ASSERT_EQ(v.detail().size(), 3u);
  EXPECT_EQ(v.detail()[0]["type"], "less_than_equal");
  EXPECT_EQ(v.detail()[2]["type"], "int_parsing");
}

// -- chat, invoke, workflow execute, agent message, workflow state ------------------------

namespace {

const std::vector<std::string> catalogue = {"chat", "lead_qualification", "web_development"};

std::string types(const validator& v) {
  std::string out;
  for (auto& e : v.detail())
    out += (out.empty() ? "" : ",") + e["type"].get<std::string>();
  return out;
}

} // namespace

TEST(ValidationTest, ChatRequestBuildsTheTurn) {
  validator v;
  json turn;
  ASSERT_TRUE(validate_chat_request({{"message", "  Hi there \n"}, {"conversation_id", "c_1-x"}},
                                    catalogue, v, turn))
      << v.detail();
  EXPECT_EQ(turn["message"], "Hi there");
  EXPECT_EQ(turn["agent_type"], "chat");
  EXPECT_EQ(turn["conversation_id"], "c_1-x");
  EXPECT_EQ(turn["action"], "chat");
  EXPECT_FALSE(turn.contains("context"));
  validator v2;
  ASSERT_TRUE(validate_chat_request(
      {{"message", "x"}, {"agent_type", "web_development"}, {"context", {{"page", "/"}}}},
      catalogue, v2, turn));
  EXPECT_EQ(turn["agent_type"], "web_development");
  EXPECT_EQ(turn["context"]["page"], "/");
}

TEST(ValidationTest, ChatRequestListsErrorsInFieldOrder) {
  validator v;
  json turn = "untouched";
  EXPECT_FALSE(validate_chat_request({{"message", "   "},
                                      {"conversation_id", "no spaces"},
                                      {"agent_type", "nobody"},
                                      {"context", 1}},
                                     catalogue, v, turn));
  EXPECT_EQ(locs(v),
            (std::vector<std::string>{R"(["body","message"])", R"(["body","conversation_id"])",
                                      R"(["body","agent_type"])", R"(["body","context"])"}));
  EXPECT_EQ(types(v), "string_too_short,string_pattern_mismatch,enum,dict_type");
  EXPECT_EQ(turn, "untouched");
  validator v2;
  EXPECT_FALSE(validate_chat_request(json::object(), catalogue, v2, turn));
  EXPECT_EQ(types(v2), "missing");
  validator v3;
  EXPECT_FALSE(validate_chat_request({{"message", std::string(10001, 'a')}}, catalogue, v3, turn));
  EXPECT_EQ(types(v3), "string_too_long");
}

TEST(ValidationTest, InvokeRequestAndMessage) {
  validator v;
  invoke_request in;
  ASSERT_TRUE(validate_invoke_request({{"agent_type", "anything"},
                                       {"input_data", {{"message", " Hello "}, {"x", 1}}},
                                       {"conversation_id", "c1"}},
                                      v, in));
  EXPECT_EQ(in.agent_type, "anything"); // existence is the handler's 404
  EXPECT_EQ(in.conversation_id, "c1");
  std::string message;
  ASSERT_TRUE(invoke_message(in.input, v, message));
  EXPECT_EQ(message, "Hello");
  ASSERT_TRUE(invoke_message({{"x", 1}}, v, message));
  EXPECT_EQ(message, "Process this input and answer helpfully:\n{\"x\":1}");
  validator v2;
  EXPECT_FALSE(invoke_message({{"message", std::string(max_invoke_text + 1, 'a')}}, v2, message));
  EXPECT_EQ(locs(v2), std::vector<std::string>{R"(["body","input_data"])"});
  EXPECT_EQ(types(v2), "too_long");
  validator v5; // optional, but a string when given; null counts as absent
  EXPECT_FALSE(invoke_message({{"message", 5}}, v5, message));
  EXPECT_EQ(locs(v5), std::vector<std::string>{R"(["body","input_data","message"])"});
  EXPECT_EQ(types(v5), "string_type");
  ASSERT_TRUE(invoke_message({{"message", nullptr}, {"x", 1}}, v5, message));
  EXPECT_EQ(message, "Process this input and answer helpfully:\n{\"message\":null,\"x\":1}");
  validator v3;
  EXPECT_FALSE(validate_invoke_request(
      {{"agent_type", 3}, {"input_data", {1}}, {"conversation_id", 7}}, v3, in));
  EXPECT_EQ(locs(v3),
            (std::vector<std::string>{R"(["body","agent_type"])", R"(["body","input_data"])",
                                      R"(["body","conversation_id"])"}));
  EXPECT_EQ(types(v3), "string_type,dict_type,string_pattern_mismatch");
  validator v4;
  EXPECT_FALSE(validate_invoke_request(json::object(), v4, in));
  EXPECT_EQ(types(v4), "missing");
}

TEST(ValidationTest, WorkflowRequest) {
  json body = {{"workflow_type", "conditional"},
               {"participating_agents", {"lead_qualification", "web_development"}},
               {"workflow_config",
                {{"max_steps", 5},
                 {"routing_rules",
                  {{"conditions",
                    {{{"field", "metadata.score"},
                      {"operator", ">="},
                      {"value", 70},
                      {"next_agent", "web_development"}}}}}}}},
               {"input_data", {{"message", "go"}}},
               {"conversation_id", "wf-1"}};
  validator v;
  workflow_submission sub;
  ASSERT_TRUE(validate_workflow_request(body, catalogue, v, sub)) << v.detail();
  EXPECT_EQ(sub.spec["participating_agents"].size(), 2u);
  EXPECT_EQ(sub.spec["metadata"], json::object());
  EXPECT_EQ(sub.conversation_id, "wf-1");
  body["workflow_config"]["routing_rules"]["conditions"][0]["next_agent"] = "chat";
  validator v2;
  EXPECT_FALSE(validate_workflow_request(body, catalogue, v2, sub));
  EXPECT_EQ(locs(v2)[0], R"(["body","workflow_config","routing_rules"])");
  validator v3;
  EXPECT_FALSE(validate_workflow_request({{"workflow_type", "loop"},
                                          {"participating_agents", {"chat", "chat", "x"}},
                                          {"workflow_config", {{"retries", 9}}},
                                          {"input_data", {{"message", 1}}}},
                                         catalogue, v3, sub));
  EXPECT_EQ(locs(v3), (std::vector<std::string>{R"(["body","workflow_type"])",
                                                R"(["body","participating_agents",1])",
                                                R"(["body","participating_agents",2])",
                                                R"(["body","input_data","message"])",
                                                R"(["body","workflow_config","retries"])"}));
  EXPECT_EQ(types(v3), "enum,value_error,enum,string_type,int_range");
}

TEST(ValidationTest, AgentMessageAndStatePatch) {
  const std::vector<std::string> agents = {"chat", "web_development"};
  validator v;
  json msg;
  ASSERT_TRUE(validate_agent_message({{"from_agent", "chat"},
                                      {"to_agent", "web_development"},
                                      {"message_type", "handoff"},
                                      {"content", {{"text", "yours"}}}},
                                     agents, v, msg))
      << v.detail();
  EXPECT_EQ(msg["metadata"], json::object());
  EXPECT_EQ(msg["content"]["text"], "yours");
  validator v2;
  EXPECT_FALSE(validate_agent_message(
      {{"from_agent", 1}, {"to_agent", "brand_design"}, {"message_type", "shout"}, {"metadata", 2}},
      agents, v2, msg));
  EXPECT_EQ(locs(v2),
            (std::vector<std::string>{R"(["body","from_agent"])", R"(["body","to_agent"])",
                                      R"(["body","message_type"])", R"(["body","content"])",
                                      R"(["body","metadata"])"}));
  EXPECT_EQ(types(v2), "string_type,value_error,enum,missing,dict_type");

  std::string action;
  validator v3;
  ASSERT_TRUE(validate_state_patch({{"action", "resume"}}, v3, action));
  EXPECT_EQ(action, "resume");
  validator v4;
  EXPECT_FALSE(validate_state_patch({{"action", nullptr}}, v4, action));
  EXPECT_EQ(types(v4), "missing");
  validator v5;
  EXPECT_FALSE(validate_state_patch({{"action", "stop"}}, v5, action));
  EXPECT_EQ(locs(v5), std::vector<std::string>{R"(["body","action"])"});
  EXPECT_EQ(types(v5), "enum");
  EXPECT_TRUE(valid_conversation_id("a-Z_9"));
  EXPECT_FALSE(valid_conversation_id(std::string(129, 'a')));
}
