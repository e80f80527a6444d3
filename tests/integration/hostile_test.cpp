// Hostile input (API.md §1 "Hostile input (v1.1)", §7 shared-memory scopes): the real server on
// loopback, attacked as an anonymous or signed-in client would. After every attack the answer is
// the contract's (never a 5xx, never a silent close), the process still runs, and /health/live
// answers. Attack loops are bounded; all traffic goes to 127.0.0.1 (attacking "clients" use
// other loopback source addresses, 127.0.0.2 and up).
#include "tests/fakes/fake_llm.hpp"
#include "tests/integration/server_fixture.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/raw_client.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <set>
#include <thread>

namespace pixelcraft::test {

namespace {

/// How much the server's RSS may grow under an attack. ASan keeps freed memory in quarantine
/// (256 MiB by default) and pads every allocation, so the sanitizer build gets a looser bound
/// that still catches the gigabytes these attacks used to cost.
/// Likewise for "answered quickly": the sanitizer build runs unoptimised and instrumented.
#if defined(__SANITIZE_ADDRESS__)
constexpr long rss_budget_mib = 512;
constexpr int slow_build_factor = 4;
#else
constexpr long rss_budget_mib = 64;
constexpr int slow_build_factor = 1;
#endif

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// `levels` nested containers around `leaf`: arrays, or objects `{"a": ...}`.
std::string nested(size_t levels, bool objects = false, const std::string& leaf = "0") {
  std::string s;
  s.reserve(levels * (objects ? 6 : 2) + leaf.size());
  for (size_t i = 0; i < levels; ++i)
    s += objects ? "{\"a\":" : "[";
  s += leaf;
  for (size_t i = 0; i < levels; ++i)
    s += objects ? "}" : "]";
  return s;
}

long long ms_since(clock_type::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count();
}

std::string str_of(const json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

/// True when `r` is a 422 whose detail list has an entry whose `loc` starts with `prefix`.
::testing::AssertionResult is_422_at(const http_result& r, const std::vector<std::string>& prefix) {
  if (r.status != 422)
    return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body.substr(0, 400);
  auto j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j["detail"].is_array())
    return ::testing::AssertionFailure() << "422 detail is not a list: " << r.body.substr(0, 400);
  for (auto& e : j["detail"]) {
    if (!e.is_object() || !e["loc"].is_array() || e["loc"].size() < prefix.size())
      continue;
    bool match = true;
    for (size_t i = 0; i < prefix.size(); ++i)
      match = match && str_of(e["loc"][i]) == prefix[i];
    if (match)
      return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "no loc starting with " << json(prefix).dump() << " in " << r.body.substr(0, 400);
}

std::string idem(const std::string& key) {
  return "Idempotency-Key: " + key;
}

} // namespace

class HostileTest : public ServerTest {
public:
  std::map<std::string, std::string> base_env() const override {
    auto env = ServerTest::base_env();
    env["OLLAMA_HOST"] = model.url();
    env["OLLAMA_MODEL"] = "llama3.2";
    // Attacks come in bursts of anonymous writes: keep the rate limiter out of the way.
    env["RATE_LIMIT_PER_MINUTE"] = "1000000";
    env["RATE_LIMIT_BURST"] = "1000000";
    for (auto& [k, v] : extra_env)
      env[k] = v;
    return env;
  }

  /// Restarts the server with `extra` on top of the base environment (same database).
  void restart_with(std::map<std::string, std::string> extra) {
    srv.stop();
    extra_env = std::move(extra);
    start_server(base_env());
  }

  /// After an attack: the process runs and /health/live answers. A dead server is reported
  /// (with the end of its log) and started again, so one crash does not hide the next class.
  void expect_alive(const std::string& after) {
    bool running = process_running(srv.pid());
    EXPECT_TRUE(running) << "the server died after: " << after;
    if (!running) {
      auto rc = srv.stop();
      auto err = srv.stderr_text();
      ADD_FAILURE() << "exit status " << rc << "; end of its stderr:\n"
                    << err.substr(err.size() > 4000 ? err.size() - 4000 : 0);
      start_server(base_env());
      return;
    }
    auto t0 = clock_type::now();
    auto r = http_call("GET", srv.base_url() + "/health/live", "", {}, 5000);
    EXPECT_EQ(r.status, 200) << "/health/live after " << after << ": " << r.error;
    EXPECT_LT(ms_since(t0), 1000) << "/health/live slow after " << after;
  }

  /// A request as an attacker sends it: an answer, never a 5xx; the server survives it.
  http_result attack(const std::string& what, const std::string& method, const std::string& path,
                     const std::string& body, std::vector<std::string> headers = {}) {
    auto r = call(method, path, body, std::move(headers));
    EXPECT_NE(r.status, 0) << what << ": no answer (" << r.error << ")";
    EXPECT_LT(r.status, 500) << what << ": " << r.body.substr(0, 300);
    expect_alive(what);
    return r;
  }

  std::string new_lead() {
    auto r = post("/api/leads/submit", valid_lead());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false).value("lead_id", std::string{});
  }

  /// A workflow of `token`'s that stays open (paused) so messages can be posted to it.
  std::string paused_workflow(const std::string& token) {
    fake_llm_script slow;
    slow.tokens = {"a", "b", "c"};
    slow.token_delay = 400ms;
    model.queue({slow});
    auto r = post("/api/agents/workflows/execute",
                  {{"workflow_type", "sequential"},
                   {"participating_agents", {"chat", "web_development"}},
                   {"input_data", {{"message", "Plan it"}}}},
                  {bearer(token)});
    EXPECT_EQ(r.status, 202) << r.body;
    auto id = json::parse(r.body, nullptr, false).value("workflow_id", std::string{});
    auto path = "/api/agents/workflows/" + id;
    EXPECT_TRUE(eventually(
        [&] { return json::parse(get(path, {bearer(token)}).body)["current_state"] == "running"; },
        10));
    auto p = call("PATCH", path + "/state", R"({"action":"pause"})", {bearer(token)});
    EXPECT_EQ(p.status, 200) << p.body;
    return id;
  }

  /// A raw GET /health/live from `source`; returns the milliseconds to its status, -1 if none.
  /// The monitor URL (with `?token=`) of a finished one-step workflow of the user, or "".
  std::string monitor_target() {
    auto wf = post("/api/agents/workflows/execute?wait=30",
                   {{"workflow_type", "sequential"}, {"participating_agents", {"chat"}}},
                   {bearer(user_token())});
    EXPECT_EQ(wf.status, 200) << wf.body;
    if (wf.status != 200)
      return "";
    return "/api/ws/workflows/" + json::parse(wf.body)["workflow_id"].get<std::string>() +
           "?token=" + user_token();
  }

  long long live_ms(const std::string& source = "127.0.0.1") {
    auto t0 = clock_type::now();
    raw_conn c;
    if (!c.connect(srv.port(), source, 2000) ||
        !c.send(raw_head("GET", "/health/live", "Connection: close\r\n"), 2000) ||
        !c.read_until("\r\n\r\n", 2000) || c.status() != 200)
      return -1;
    return ms_since(t0);
  }

  std::map<std::string, std::string> extra_env;
  fake_llm model;
};

// -- nesting depth -------------------------------------------------------------------------------

namespace {

/// A route that takes a JSON body; the body is `before + <nested value> + after`, the nested
/// value sitting inside `enclosing` containers of the body itself.
struct body_route {
  std::string name;
  std::string method;
  std::string path;
  std::vector<std::string> headers;
  std::string before;
  std::string after;
  size_t enclosing;
  int ok_status;   ///< the answer when the whole body is 32 levels deep
  bool idempotent; ///< sends a fresh Idempotency-Key (the nested value is an unknown field)
};

} // namespace

class HostileDepthTest : public HostileTest {
public:
  std::vector<body_route> routes() {
    auto user = bearer(user_token());
    auto admin = bearer(admin_token());
    auto lead = valid_lead().dump();
    lead.pop_back(); // reopen the top-level object
    auto wf = "/api/agents/workflows/" + workflow;
    std::string msg =
        R"({"from_agent":"chat","to_agent":"web_development","message_type":"request",)";
    return {
        {"chat message context",
         "POST",
         "/api/chat/message",
         {},
         R"({"message":"hi","context":{"d":)",
         "}}",
         2,
         200,
         false},
        {"chat stream context",
         "POST",
         "/api/chat/stream",
         {},
         R"({"message":"hi","context":{"d":)",
         "}}",
         2,
         200,
         false},
        {"invoke input_data",
         "POST",
         "/api/agents/invoke",
         {user},
         R"({"agent_type":"chat","input_data":{"message":"hi","d":)",
         "}}",
         2,
         200,
         false},
        {"lead submit unknown field",
         "POST",
         "/api/leads/submit",
         {},
         lead + R"(,"d":)",
         "}",
         1,
         201,
         false},
        {"lead patch metadata",
         "PATCH",
         "/api/leads/" + lead_id,
         {admin},
         R"({"metadata":{"d":)",
         "}}",
         2,
         200,
         false},
        {"workflow execute input_data",
         "POST",
         "/api/agents/workflows/execute",
         {user},
         R"({"workflow_type":"sequential","participating_agents":["chat"],"input_data":{"message":"hi","d":)",
         "}}",
         2,
         202,
         false},
        {"workflow execute metadata",
         "POST",
         "/api/agents/workflows/execute",
         {user},
         R"({"workflow_type":"sequential","participating_agents":["chat"],"metadata":{"d":)",
         "}}",
         2,
         202,
         false},
        {"agent message content",
         "POST",
         wf + "/messages",
         {user},
         msg + R"("content":{"d":)",
         "}}",
         2,
         201,
         false},
        {"workflow state unknown field",
         "PATCH",
         wf + "/state",
         {user},
         R"({"action":"pause","d":)",
         "}",
         1,
         200,
         false},
        // Unknown fields sent with an Idempotency-Key (the key's body hash walks the whole body).
        {"chat message + Idempotency-Key",
         "POST",
         "/api/chat/message",
         {},
         R"({"message":"hi","d":)",
         "}",
         1,
         200,
         true},
        {"invoke + Idempotency-Key",
         "POST",
         "/api/agents/invoke",
         {user},
         R"({"agent_type":"chat","input_data":{"message":"hi"},"d":)",
         "}",
         1,
         200,
         true},
        {"lead submit + Idempotency-Key",
         "POST",
         "/api/leads/submit",
         {},
         lead + R"(,"d":)",
         "}",
         1,
         201,
         true},
        {"workflow execute + Idempotency-Key",
         "POST",
         "/api/agents/workflows/execute",
         {user},
         R"({"workflow_type":"sequential","participating_agents":["chat"],"d":)",
         "}",
         1,
         202,
         true},
        {"agent message + Idempotency-Key",
         "POST",
         wf + "/messages",
         {user},
         msg + R"("content":{},"d":)",
         "}",
         1,
         201,
         true},
    };
  }

  http_result send_nested(const body_route& r, size_t total_depth, bool objects) {
    auto body = r.before + nested(total_depth - r.enclosing, objects) + r.after;
    auto headers = r.headers;
    if (r.idempotent)
      headers.push_back(idem("depth-" + std::to_string(++keys)));
    auto what =
        r.name + " nested " + std::to_string(total_depth) + (objects ? " (objects)" : " (arrays)");
    return attack(what, r.method, r.path, body, headers);
  }

  void SetUp() override {
    HostileTest::SetUp();
    if (IsSkipped() || HasFatalFailure())
      return;
    lead_id = new_lead();
    workflow = paused_workflow(user_token());
  }

  std::string lead_id;
  std::string workflow;
  int keys = 0;
};

TEST_F(HostileDepthTest, HundredThousandLevelsAre400OnEveryRouteAndTheProcessLives) {
  for (auto& r : routes()) {
    for (bool objects : {false, true}) {
      auto res = send_nested(r, 100000, objects);
      EXPECT_EQ(res.status, 400) << r.name << (objects ? " objects" : " arrays") << ": "
                                 << res.body.substr(0, 300);
      auto j = json::parse(res.body, nullptr, false);
      EXPECT_TRUE(j.is_object() && j["detail"].is_string())
          << r.name << ": " << res.body.substr(0, 300);
    }
  }
  // 30,000 deep once gave 500 rather than a crash: the same answer.
  for (auto& r : routes())
    EXPECT_EQ(send_nested(r, 30000, false).status, 400) << r.name;
}

TEST_F(HostileDepthTest, ThirtyThreeLevelsAre400AndThirtyTwoAreServed) {
  for (auto& r : routes()) {
    for (bool objects : {false, true}) {
      auto deep = send_nested(r, 33, objects);
      EXPECT_EQ(deep.status, 400) << r.name << " at 33 levels" << (objects ? " (objects)" : "")
                                  << ": " << deep.body.substr(0, 300);
      if (deep.status == 400) {
        EXPECT_NE(deep.body.find("deep"), std::string::npos)
            << r.name << ": the detail should say the body is too deep: " << deep.body;
      }
      auto ok = send_nested(r, 32, objects);
      EXPECT_EQ(ok.status, r.ok_status)
          << r.name << " at 32 levels" << (objects ? " (objects)" : "") << ": "
          << ok.body.substr(0, 300);
    }
  }
}

TEST_F(HostileDepthTest, RoutesWithoutABodySurviveADeepOne) {
  auto admin = bearer(admin_token());
  auto user = bearer(user_token());
  auto deep = nested(100000);
  attack("deep body on lead analyze", "POST", "/api/leads/" + lead_id + "/analyze", deep, {admin});
  attack("deep body on GET leads", "GET", "/api/leads", deep, {admin});
  attack("deep body on chat history DELETE", "DELETE", "/api/chat/history/abc", deep);
  attack("deep body on workflow GET", "GET", "/api/agents/workflows/" + workflow, deep, {user});
  attack("deep body on /health/live", "GET", "/health/live", deep);
}

TEST_F(HostileDepthTest, DeepWebSocketFramesDoNotKillTheProcess) {
  for (auto levels : {33, 30000}) {
    raw_conn c;
    ASSERT_TRUE(c.connect(srv.port()));
    ASSERT_EQ(ws_raw::handshake(c, "/api/ws/workflows/" + workflow + "?token=" + user_token()),
              101);
    c.send(ws_raw::frame(0x1, nested(static_cast<size_t>(levels), false, R"({"type":"ping"})")));
    c.read_some(1000);
    expect_alive("a WebSocket text frame nested " + std::to_string(levels) + " deep");
  }
  // The monitor still works for a well-behaved client.
  raw_conn ok;
  ASSERT_TRUE(ok.connect(srv.port()));
  ASSERT_EQ(ws_raw::handshake(ok, "/api/ws/workflows/" + workflow + "?token=" + user_token()), 101);
  ok.send(ws_raw::frame(0x1, R"({"type":"ping"})"));
  EXPECT_TRUE(ok.read_until("pong", 5000)) << ok.received().substr(0, 300);
}

// A model answer is hostile input too: a tool call whose arguments nest far past the limit.
TEST_F(HostileTest, ADeeplyNestedModelAnswerDoesNotKillTheProcess) {
  // As text: building or dumping it with nlohmann would recurse 10,000 deep in the test itself.
  fake_llm_script deep;
  deep.tokens = {};
  deep.raw_tool_calls = R"([{"function":{"name":"remember","arguments":{"key":"k","value":)" +
                        std::string(10000, '[') + "0" + std::string(10000, ']') + "}}}]";
  model.queue({deep, deep, deep, deep});
  auto r = post("/api/chat/message", {{"message", "hi"}});
  EXPECT_NE(r.status, 0) << r.error;
  EXPECT_NE(r.status, 500) << r.body;
  expect_alive("a model answer nested 10,000 deep");
}

// A model answer's tool calls of the wrong shapes: each is refused as a call of an unknown tool,
// and the turn ends with an answer (never a dead agent actor or a 500).
TEST_F(HostileTest, MalformedToolCallsFromTheModelAreRefusedNotFatal) {
  fake_llm_script odd;
  odd.tokens = {};
  odd.raw_tool_calls = R"([7, "call", null, {"function": "remember"}, {"function": {"name": 5}},)"
                       R"( {"id": 9, "function": {"name": ["x"], "arguments": 3}}])";
  fake_llm_script done;
  done.tokens = {"All", " done."};
  model.queue({odd, done});
  auto r = post("/api/chat/message", {{"message", "hi"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json::parse(r.body);
  EXPECT_EQ(body["response"], "All done.") << r.body;
  expect_alive("tool calls of the wrong shapes");
}

// -- NUL characters and invalid UTF-8
// ----------------------------------------------------------------

namespace {

const std::string nul = std::string("a\0b", 3);

} // namespace

TEST_F(HostileDepthTest, NulInEveryStringFieldClassIs422AtThatField) {
  auto user = bearer(user_token());
  auto admin = bearer(admin_token());
  struct nul_case {
    std::string name;
    std::string method;
    std::string path;
    std::vector<std::string> headers;
    json body;
    std::vector<std::string> loc;
  };
  std::vector<nul_case> cases;
  auto chat = [&](std::string name, json body, std::vector<std::string> loc) {
    cases.push_back({"chat message: " + name, "POST", "/api/chat/message", {}, body, loc});
    cases.push_back({"chat stream: " + name, "POST", "/api/chat/stream", {}, body, loc});
  };
  chat("message", {{"message", "hi " + nul}}, {"body", "message"});
  chat("context key", {{"message", "hi"}, {"context", {{"k" + nul, "v"}}}}, {"body", "context"});
  chat("context value", {{"message", "hi"}, {"context", {{"k", {{"deeper", {nul}}}}}}},
       {"body", "context"});
  chat("conversation_id", {{"message", "hi"}, {"conversation_id", "abc" + nul}},
       {"body", "conversation_id"});
  chat("agent_type", {{"message", "hi"}, {"agent_type", "chat" + nul}}, {"body", "agent_type"});
  chat("unknown field", {{"message", "hi"}, {"x", nul}}, {"body", "x"});

  for (auto field :
       {"name", "email", "company", "phone", "message", "budget_range", "timeline", "source"}) {
    auto body = valid_lead();
    body["lead_data"][field] = body["lead_data"].value(field, std::string{"x"}) + nul;
    cases.push_back({std::string{"lead "} + field,
                     "POST",
                     "/api/leads/submit",
                     {},
                     body,
                     {"body", "lead_data", field}});
  }
  {
    auto body = valid_lead();
    body["lead_data"]["services_interested"] = {"web_development", nul};
    cases.push_back({"lead services_interested item",
                     "POST",
                     "/api/leads/submit",
                     {},
                     body,
                     {"body", "lead_data", "services_interested"}});
    body = valid_lead();
    body["lead_data"]["x"] = nul;
    cases.push_back(
        {"lead unknown field", "POST", "/api/leads/submit", {}, body, {"body", "lead_data", "x"}});
  }
  auto lead = "/api/leads/" + lead_id;
  cases.push_back({"lead patch metadata value",
                   "PATCH",
                   lead,
                   {admin},
                   {{"metadata", {{"k", nul}}}},
                   {"body", "metadata"}});
  cases.push_back({"lead patch metadata key",
                   "PATCH",
                   lead,
                   {admin},
                   {{"metadata", {{nul, 1}}}},
                   {"body", "metadata"}});
  cases.push_back(
      {"lead patch notes", "PATCH", lead, {admin}, {{"notes", nul}}, {"body", "notes"}});
  cases.push_back({"lead patch assigned_to",
                   "PATCH",
                   lead,
                   {admin},
                   {{"assigned_to", nul}},
                   {"body", "assigned_to"}});

  json wf = {{"workflow_type", "sequential"}, {"participating_agents", {"chat"}}};
  auto with = [&](json base, const std::string& key, json v) {
    base[key] = std::move(v);
    return base;
  };
  auto exec = [&](std::string name, json body, std::vector<std::string> loc) {
    cases.push_back(
        {"workflow execute " + name, "POST", "/api/agents/workflows/execute", {user}, body, loc});
  };
  exec("input_data message", with(wf, "input_data", {{"message", nul}}), {"body", "input_data"});
  exec("input_data key", with(wf, "input_data", {{"message", "hi"}, {nul, "v"}}),
       {"body", "input_data"});
  exec("input_data lead_data", with(wf, "input_data", {{"lead_data", {{"name", nul}}}}),
       {"body", "input_data"});
  exec("metadata", with(wf, "metadata", {{"k", nul}}), {"body", "metadata"});
  exec("workflow_config", with(wf, "workflow_config", {{"note", nul}}),
       {"body", "workflow_config"});
  exec("participating_agents item", with(wf, "participating_agents", {"chat" + nul}),
       {"body", "participating_agents"});
  exec("conversation_id", with(wf, "conversation_id", "c" + nul), {"body", "conversation_id"});

  auto inv = [&](std::string name, json body, std::vector<std::string> loc) {
    cases.push_back({"invoke " + name, "POST", "/api/agents/invoke", {user}, body, loc});
  };
  inv("input_data message", {{"agent_type", "chat"}, {"input_data", {{"message", nul}}}},
      {"body", "input_data"});
  inv("input_data nested key", {{"agent_type", "chat"}, {"input_data", {{"a", {{nul, 1}}}}}},
      {"body", "input_data"});
  inv("agent_type", {{"agent_type", "chat" + nul}, {"input_data", json::object()}},
      {"body", "agent_type"});
  inv("conversation_id", {{"agent_type", "chat"}, {"conversation_id", "c" + nul}},
      {"body", "conversation_id"});

  json msg = {{"from_agent", "chat"},
              {"to_agent", "web_development"},
              {"message_type", "request"},
              {"content", {{"q", "ok"}}}};
  auto am = [&](std::string name, json body, std::vector<std::string> loc) {
    cases.push_back({"agent message " + name,
                     "POST",
                     "/api/agents/workflows/" + workflow + "/messages",
                     {user},
                     body,
                     loc});
  };
  am("content value", with(msg, "content", {{"q", nul}}), {"body", "content"});
  am("content key", with(msg, "content", {{nul, "v"}}), {"body", "content"});
  am("content nested", with(msg, "content", {{"a", {{"b", {1, nul}}}}}), {"body", "content"});
  am("metadata", with(msg, "metadata", {{"k", nul}}), {"body", "metadata"});
  am("from_agent", with(msg, "from_agent", "chat" + nul), {"body", "from_agent"});
  cases.push_back({"workflow state action",
                   "PATCH",
                   "/api/agents/workflows/" + workflow + "/state",
                   {user},
                   {{"action", "pause" + nul}},
                   {"body", "action"}});

  for (auto& c : cases) {
    auto r = attack(c.name, c.method, c.path, c.body.dump(), c.headers);
    EXPECT_TRUE(is_422_at(r, c.loc)) << c.name;
  }
  // Nothing with a NUL was stored: the workflow's messages are only what was posted cleanly.
  auto list = json::parse(get("/api/agents/workflows/" + workflow + "/messages", {user}).body);
  EXPECT_EQ(list["total"], 0) << list;
}

TEST_F(HostileDepthTest, InvalidUtf8BodiesAre400AndTrailingBytesToo) {
  auto user = bearer(user_token());
  auto admin = bearer(admin_token());
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"\\xff\\xfe", "\xff\xfe"},
      {"truncated sequence", "caf\xc3"},
      {"overlong slash", "\xc0\xaf"},
      {"UTF-8 encoded surrogate", "\xed\xa0\x80"},
      {"lone continuation", "a\x80z"},
      {"escaped lone surrogate", "\\ud800"},
      {"beyond U+10FFFF", "\xf4\x90\x80\x80"},
  };
  struct route {
    std::string name, method, path;
    std::vector<std::string> headers;
    std::string before, after; ///< the bad bytes go between
  };
  auto lead = valid_lead().dump();
  auto name_at = lead.find("Zo");
  std::vector<route> routes = {
      {"chat message", "POST", "/api/chat/message", {}, R"({"message":")", R"("})"},
      {"chat context key",
       "POST",
       "/api/chat/message",
       {},
       R"({"message":"hi","context":{")",
       R"(":1}})"},
      {"chat stream", "POST", "/api/chat/stream", {}, R"({"message":")", R"("})"},
      {"lead name", "POST", "/api/leads/submit", {}, lead.substr(0, name_at), lead.substr(name_at)},
      {"lead patch notes", "PATCH", "/api/leads/" + lead_id, {admin}, R"({"notes":")", R"("})"},
      {"invoke input_data",
       "POST",
       "/api/agents/invoke",
       {user},
       R"({"agent_type":"chat","input_data":{"message":")",
       R"("}})"},
      {"workflow execute input_data",
       "POST",
       "/api/agents/workflows/execute",
       {user},
       R"({"workflow_type":"sequential","participating_agents":["chat"],"input_data":{"message":")",
       R"("}})"},
      {"agent message content",
       "POST",
       "/api/agents/workflows/" + workflow + "/messages",
       {user},
       R"({"from_agent":"chat","to_agent":"web_development","message_type":"request","content":{"q":")",
       R"("}})"},
      {"workflow state",
       "PATCH",
       "/api/agents/workflows/" + workflow + "/state",
       {user},
       R"({"action":")",
       R"("})"},
  };
  for (auto& r : routes) {
    for (auto& [what, bytes] : bad) {
      auto res =
          attack(r.name + " with " + what, r.method, r.path, r.before + bytes + r.after, r.headers);
      EXPECT_EQ(res.status, 400) << r.name << " with " << what << ": " << res.body.substr(0, 300);
    }
    // A valid body followed by a NUL byte (or other bytes) is not a JSON document.
    auto good = r.before + "x" + r.after;
    for (auto tail : {std::string(1, '\0'), std::string("\0{}", 3), std::string(" garbage")}) {
      auto res =
          attack(r.name + " followed by trailing bytes", r.method, r.path, good + tail, r.headers);
      EXPECT_EQ(res.status, 400) << r.name << " + trailing " << json(tail).dump() << ": "
                                 << res.body.substr(0, 300);
    }
  }
  // Valid UTF-8 of every length still passes.
  auto ok = post("/api/chat/message", {{"message", "héllo wörld ✓ 𝄞 Zoë O'Connor"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(HostileDepthTest, BadBytesInQueryFiltersAre422) {
  auto user = bearer(user_token());
  auto admin = bearer(admin_token());
  const std::vector<std::string> bad = {"%00", "a%00b",  "%ff",      "%ff%fe",
                                        "%c3", "%c0%af", "%ed%a0%80"};
  struct filter {
    std::string path;
    std::vector<std::string> names;
    std::string header;
  };
  std::vector<filter> filters = {
      {"/api/leads", {"search", "assigned_to", "status", "min_score", "limit", "offset"}, admin},
      {"/api/agents/workflows",
       {"conversation_id", "workflow_type", "current_state", "limit", "offset"},
       user},
      {"/api/agents/workflows/" + workflow + "/messages",
       {"from_agent", "to_agent", "message_type", "status", "limit", "offset"},
       user},
      {"/api/chat/history/abc", {"limit", "offset"}, ""},
  };
  for (auto& f : filters)
    for (auto& name : f.names)
      for (auto& v : bad) {
        auto target = f.path + "?" + name + "=" + v;
        std::vector<std::string> headers;
        if (!f.header.empty())
          headers.push_back(f.header);
        auto r = attack("GET " + target, "GET", target, "", headers);
        EXPECT_TRUE(is_422_at(r, {"query", name})) << "GET " << target;
      }
  // Bad bytes in a path segment name nothing: 404 (never 500).
  for (auto path :
       {"/api/leads/%00", "/api/leads/%ff%fe", "/api/agents/%00", "/api/agents/%ff",
        "/api/models/%ff", "/api/chat/history/%00", "/api/agents/workflows/%ff/memory"}) {
    auto r = attack(std::string{"GET "} + path, "GET", path, "", {admin});
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
  }
  // A WebSocket monitor's query parameters are query parameters too.
  for (auto q : {"?since=%00&token=", "?since=%ff&token=", "?since=1%00&token="}) {
    raw_conn c;
    ASSERT_TRUE(c.connect(srv.port()));
    auto status = ws_raw::handshake(c, "/api/ws/workflows/" + workflow + q + user_token());
    EXPECT_TRUE(status == 400 || status == 422) << q << " answered " << status;
    expect_alive(std::string{"WebSocket with "} + q);
  }
}

TEST_F(HostileDepthTest, BadHeaderBytesAre4xx) {
  auto user = bearer(user_token());
  json chat = {{"message", "hi"}};
  auto lead = valid_lead();
  json wf = {{"workflow_type", "sequential"}, {"participating_agents", {"chat"}}};
  for (auto key : {std::string("\xff\xfe"), std::string("ok\xff"), std::string("\xc3\xa9t\xc3\xa9"),
                   std::string(256, 'k'), std::string("a b\t"), std::string("\x7f")}) {
    auto h = idem(key);
    auto printable = json(std::string(key.begin(), key.end()))
                         .dump(-1, ' ', true, json::error_handler_t::replace);
    for (auto [path, body, auth] : std::vector<std::tuple<std::string, json, std::string>>{
             {"/api/chat/message", chat, ""},
             {"/api/leads/submit", lead, ""},
             {"/api/agents/invoke", {{"agent_type", "chat"}}, user},
             {"/api/agents/workflows/execute", wf, user}}) {
      std::vector<std::string> headers{h};
      if (!auth.empty())
        headers.push_back(auth);
      auto r = attack("Idempotency-Key " + printable + " on " + path, "POST", path, body.dump(),
                      headers);
      EXPECT_TRUE(r.status == 400 || r.status == 422)
          << path << " key " << printable << ": " << r.status;
    }
  }
  // A token of bad bytes is an invalid token (401), not a crash.
  auto r = attack("Authorization of bad bytes", "GET", "/api/agents/workflows", "",
                  {"Authorization: Bearer \xff\xfe\x80"});
  EXPECT_EQ(r.status, 401);
  // A bad correlation id is replaced, not echoed.
  auto c = attack("X-Correlation-ID of bad bytes", "GET", "/health/live", "",
                  {"X-Correlation-ID: \xff\xfe"});
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(c.header("x-correlation-id").find('\xff'), std::string::npos);
  EXPECT_FALSE(c.header("x-correlation-id").empty());
  attack("Content-Type of bad bytes", "POST", "/api/chat/message", chat.dump(),
         {"Content-Type: application/json\xff"});
  attack("Accept of bad bytes", "POST", "/api/chat/stream", chat.dump(), {"Accept: \xff\xfe"});
}

// -- transport limits, answered before the close -------------------------------------------------

class HostileTransportTest : public HostileTest {
public:
  /// Opens `n` idle connections from 127.0.0.2 (another client address than the checks).
  std::vector<raw_conn> open_idle(size_t n) {
    std::vector<raw_conn> idle(n);
    size_t connected = 0;
    for (auto& c : idle)
      connected += c.connect(srv.port(), "127.0.0.2", 3000);
    EXPECT_EQ(connected, n);
    std::this_thread::sleep_for(500ms);
    return idle;
  }

  /// The slowest of ten `/health/live` answers from 127.0.0.1, 100 ms apart; -1 if one failed.
  long long worst_live_ms() {
    long long worst = 0;
    for (int i = 0; i < 10; ++i) {
      auto ms = live_ms("127.0.0.1");
      if (ms < 0)
        return -1;
      worst = std::max(worst, ms);
      std::this_thread::sleep_for(100ms);
    }
    return worst;
  }

  /// Sends `bytes` on a fresh connection and expects `status` before the server closes it.
  void expect_answered(const std::string& what, const std::string& bytes, int status,
                       int within_ms = 5000) {
    raw_conn c;
    ASSERT_TRUE(c.connect(srv.port())) << what;
    auto t0 = clock_type::now();
    c.send(bytes, 30000);
    c.read_until("\r\n\r\n", within_ms);
    EXPECT_EQ(c.status(), status)
        << what << ": got "
        << json(c.received().substr(0, 200)).dump(-1, ' ', false, json::error_handler_t::replace)
        << (c.peer_closed() ? " (closed)" : "");
    EXPECT_LT(ms_since(t0), within_ms + 1000) << what;
    EXPECT_TRUE(c.wait_closed(5000)) << what << ": the connection stayed open after " << c.status();
    expect_alive(what);
  }
};

// HTTP/1.1 pipelining (RFC 9112 §9.3.2): requests sent back to back in one packet are all
// answered, in order, whether each is answered at once (a probe, a refusal) or by an actor.
TEST_F(HostileTransportTest, PipelinedRequestsAreAllAnsweredInOrder) {
  const std::vector<std::pair<std::string, int>> plan = {
      {"/health/live", 200}, {"/nope", 404},        {"/health/live", 200}, {"/api/agents", 200},
      {"/api/leads", 401},   {"/health/live", 200}, {"/api/agents", 200},  {"/nope", 404}};
  std::string bytes;
  std::vector<int> expected;
  for (int round = 0; round < 3; ++round)
    for (const auto& [path, status] : plan) {
      bytes += raw_head("GET", path, "");
      expected.push_back(status);
    }
  bytes += raw_head("GET", "/health/live", "Connection: close\r\n");
  expected.push_back(200);
  raw_conn c;
  ASSERT_TRUE(c.connect(srv.port()));
  ASSERT_TRUE(c.send(bytes));
  EXPECT_TRUE(c.wait_closed(10000));
  std::vector<int> got;
  for (size_t at = c.received().find("HTTP/1.1 "); at != std::string::npos;
       at = c.received().find("HTTP/1.1 ", at + 1))
    got.push_back(std::atoi(c.received().c_str() + at + 9));
  EXPECT_EQ(got, expected);
  expect_alive("pipelined requests");
}

// RFC 9112 §5.1: white space between a field name and its colon is a 400. Read as framing, it
// would let a proxy that drops such a line see the body as a second request (a desync).
TEST_F(HostileTransportTest, WhiteSpaceBeforeAHeaderColonIs400AndEndsTheConnection) {
  const std::string smuggled = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
  expect_answered("Content-Length before a space",
                  "POST /api/leads/submit HTTP/1.1\r\nHost: x\r\nContent-Length : " +
                      std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
                  400);
  expect_answered("Transfer-Encoding before a tab",
                  "POST /api/leads/submit HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\t: chunked"
                  "\r\n\r\n0\r\n\r\n" +
                      smuggled,
                  400);
  expect_answered("a space inside a name", raw_head("GET", "/health/live", "X Forwarded: 1\r\n"),
                  400);
  // The smuggled request is never answered: one response, then the close.
  raw_conn c;
  ASSERT_TRUE(c.connect(srv.port()));
  c.send("POST /api/leads/submit HTTP/1.1\r\nHost: x\r\nContent-Length : " +
         std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled);
  EXPECT_TRUE(c.wait_closed(5000));
  EXPECT_EQ(c.received().find("HTTP/1.1 ", 1), std::string::npos) << c.received();
}

TEST_F(HostileTransportTest, AHugeContentLengthGets413AtOnce) {
  // A value past what 64 bits hold is malformed framing (RFC 9112 §6.3): 400 is as good an
  // answer as 413 there, as long as it comes at once.
  for (auto len : {"1000000000000", "17825792", "2097152", "18446744073709551614",
                   "18446744073709551615", "99999999999999999999999999"}) {
    bool overflow = std::string{len}.size() >= 20;
    raw_conn c;
    ASSERT_TRUE(c.connect(srv.port()));
    auto t0 = clock_type::now();
    c.send(
        raw_head("POST", "/api/chat/message",
                 std::string{"Content-Type: application/json\r\nContent-Length: "} + len + "\r\n"));
    // No body is sent: the answer must not wait for it.
    c.read_until("\r\n\r\n", 3000);
    if (overflow) {
      EXPECT_TRUE(c.status() == 413 || c.status() == 400)
          << "Content-Length " << len << ": got " << c.received().substr(0, 200);
    } else {
      EXPECT_EQ(c.status(), 413) << "Content-Length " << len << ": got "
                                 << c.received().substr(0, 200);
    }
    EXPECT_LT(ms_since(t0), 2000) << "Content-Length " << len;
    EXPECT_TRUE(c.wait_closed(5000)) << "Content-Length " << len;
    expect_alive(std::string{"Content-Length: "} + len);
  }
}

TEST_F(HostileTransportTest, BodiesOverTheLimitsGet413) {
  // Over the configurable limit (1 MiB), body sent in full.
  std::string body = R"({"message":")" + std::string(2 * 1024 * 1024, 'x') + R"("})";
  expect_answered("a 2 MiB body",
                  raw_head("POST", "/api/chat/message",
                           "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                      body,
                  413);
  // Over the 16 MiB hard cap, chunked (no Content-Length to refuse it by).
  std::string chunked = raw_head("POST", "/api/chat/message", "Transfer-Encoding: chunked\r\n");
  std::string mib(1024 * 1024, 'x');
  for (int i = 0; i < 17; ++i)
    chunked += "100000\r\n" + mib + "\r\n";
  chunked += "0\r\n\r\n";
  expect_answered("a 17 MiB chunked body", chunked, 413, 10000);
  // A chunk declaring a terabyte, then more than the limit of it.
  expect_answered("a chunk declaring 1 TiB, then 2 MiB of it",
                  raw_head("POST", "/api/chat/message", "Transfer-Encoding: chunked\r\n") +
                      "10000000000\r\n" + std::string(2 * 1024 * 1024, 'x'),
                  413);
  // The declaration alone: answered at once, not after waiting for a terabyte.
  expect_answered("a chunk declaring 1 TiB and nothing else",
                  raw_head("POST", "/api/chat/message", "Transfer-Encoding: chunked\r\n") +
                      "10000000000\r\n",
                  413, 3000);
}

TEST_F(HostileTransportTest, OversizedHeadsGet431And414) {
  expect_answered(
      "a 200 KiB header value",
      raw_head("GET", "/health/live", "X-Big: " + std::string(200 * 1024, 'a') + "\r\n"), 431);
  std::string many;
  for (int i = 0; i < 401; ++i)
    many += "X-H" + std::to_string(i) + ": v\r\n";
  expect_answered("401 headers", raw_head("GET", "/health/live", many), 431);
  std::string thousands;
  for (int i = 0; i < 5000; ++i)
    thousands += "X-H" + std::to_string(i) + ": v\r\n";
  expect_answered("5000 headers", raw_head("GET", "/health/live", thousands), 431);
  expect_answered("a 9 KiB header name",
                  raw_head("GET", "/health/live", std::string(9 * 1024, 'N') + ": v\r\n"), 431);
  expect_answered("a 64 KiB header name",
                  raw_head("GET", "/health/live", std::string(64 * 1024, 'N') + ": v\r\n"), 431);
  expect_answered("a 70 KiB query",
                  raw_head("GET", "/health/live?x=" + std::string(70 * 1024, 'q')), 414);
  expect_answered("a 70 KiB path", raw_head("GET", "/" + std::string(70 * 1024, 'p')), 414);
  expect_answered("a 1 MiB path", raw_head("GET", "/" + std::string(1024 * 1024, 'p')), 414);
}

// -- connections
// -----------------------------------------------------------------------------------

TEST_F(HostileTransportTest, OneClientWithElevenHundredIdleConnectionsDoesNotStarveOthers) {
  ASSERT_GE(raise_nofile(4096), 2300) << "the test needs file descriptors for 1,100 sockets";
  auto idle = open_idle(1100);
  auto worst = worst_live_ms();
  RecordProperty("health_live_max_ms", static_cast<int>(worst));
  std::cout << "[ measure  ] /health/live under 1,100 idle connections: max " << worst << " ms\n";
  EXPECT_GE(worst, 0) << "a /health/live check failed";
  EXPECT_LT(worst, 100);
  // Past MAX_CONNECTIONS_PER_CLIENT (default 256) the rest were told 503 and closed.
  int told = 0, open = 0;
  for (auto& c : idle) {
    c.poll_now();
    told += c.status() == 503;
    open += !c.peer_closed();
  }
  std::cout << "[ measure  ] of 1,100: " << told << " answered 503, " << open << " still open\n";
  EXPECT_LE(open, 256);
  EXPECT_GE(told, 1100 - 256 - 10);
  idle.clear();
  expect_alive("1,100 idle connections");
}

TEST_F(HostileTransportTest, AClientAllowedElevenHundredConnectionsHoldsThemAndOthersAreServed) {
  // Started with a soft open-file limit of 1024 (a common default): the server raises its own.
  ASSERT_GE(raise_nofile(4096), 2300);
  auto old = set_nofile_soft(1024);
  srv.stop();
  extra_env = {{"MAX_CONNECTIONS_PER_CLIENT", "2000"}};
  bool up = srv.start(base_env());
  set_nofile_soft(old);
  ASSERT_TRUE(up) << srv.stderr_text();
  auto idle = open_idle(1100);
  auto worst = worst_live_ms();
  std::cout << "[ measure  ] /health/live with 1,100 held connections: max " << worst << " ms\n";
  RecordProperty("health_live_max_ms", static_cast<int>(worst));
  EXPECT_GE(worst, 0) << "a /health/live check failed";
  EXPECT_LT(worst, 100);
  int open = 0;
  for (auto& c : idle) {
    c.poll_now();
    open += !c.peer_closed();
  }
  EXPECT_EQ(open, 1100) << "the server should hold every connection under its caps";
  // The same client's 1,101st connection is served too (no cap at 1,024).
  EXPECT_GE(live_ms("127.0.0.2"), 0);
  idle.clear();
  expect_alive("1,100 held connections");
}

TEST_F(HostileTransportTest, PastThePerClientCapANewConnectionGets503ThenClose) {
  restart_with({{"MAX_CONNECTIONS_PER_CLIENT", "20"}});
  std::vector<raw_conn> held(20);
  for (auto& c : held)
    ASSERT_TRUE(c.connect(srv.port(), "127.0.0.3"));
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 3; ++i) {
    raw_conn extra;
    ASSERT_TRUE(extra.connect(srv.port(), "127.0.0.3"));
    extra.send(raw_head("GET", "/health/live"));
    extra.read_until("\r\n\r\n", 3000);
    EXPECT_EQ(extra.status(), 503) << extra.received().substr(0, 200);
    EXPECT_FALSE(extra.header("retry-after").empty()) << extra.received().substr(0, 300);
    EXPECT_TRUE(extra.wait_closed(3000)) << "the refused connection should be closed";
  }
  // Another client is not affected.
  EXPECT_GE(live_ms("127.0.0.1"), 0);
  // The held ones still work, and once they go the client is served again.
  ASSERT_TRUE(held[0].send(raw_head("GET", "/health/live")));
  EXPECT_TRUE(held[0].read_until("\r\n\r\n", 3000));
  EXPECT_EQ(held[0].status(), 200);
  held.clear();
  EXPECT_TRUE(eventually([&] { return live_ms("127.0.0.3") >= 0; }, 5));
  expect_alive("connections past the per-client cap");
}

TEST_F(HostileTransportTest, PastTheTotalCapANewConnectionGets503ThenClose) {
  restart_with({{"MAX_CONNECTIONS", "30"}});
  // Thirty clients with one idle connection each: nobody is over the per-client cap.
  std::vector<raw_conn> held(30);
  for (size_t i = 0; i < held.size(); ++i)
    ASSERT_TRUE(held[i].connect(srv.port(), "127.0.1." + std::to_string(i + 1)));
  std::this_thread::sleep_for(300ms);
  raw_conn extra;
  ASSERT_TRUE(extra.connect(srv.port(), "127.0.2.1"));
  extra.send(raw_head("GET", "/health/live"));
  extra.read_until("\r\n\r\n", 3000);
  EXPECT_EQ(extra.status(), 503) << extra.received().substr(0, 200);
  EXPECT_FALSE(extra.header("retry-after").empty()) << extra.received().substr(0, 300);
  EXPECT_TRUE(extra.wait_closed(3000));
  held.clear();
  EXPECT_TRUE(eventually([&] { return live_ms("127.0.2.1") >= 0; }, 5));
  expect_alive("connections past the total cap");
}

TEST_F(HostileTransportTest, IncompleteHeadersAreClosedAfterTheHeaderTimeout) {
  restart_with({{"HEADER_TIMEOUT_S", "1"}});
  // A partial head, then silence.
  raw_conn partial;
  ASSERT_TRUE(partial.connect(srv.port(), "127.0.0.4"));
  auto t0 = clock_type::now();
  partial.send("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
  EXPECT_TRUE(partial.wait_closed(4000)) << "a stalled head should be closed after 1 s";
  auto stalled_ms = ms_since(t0);
  EXPECT_GE(stalled_ms, 700);
  std::cout << "[ measure  ] stalled head closed after " << stalled_ms << " ms\n";
  // A trickle (one byte every 200 ms) does not extend it: the head must be complete in time.
  raw_conn trickle;
  ASSERT_TRUE(trickle.connect(srv.port(), "127.0.0.4"));
  t0 = clock_type::now();
  std::string head =
      "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  for (char ch : head) {
    if (!trickle.send(std::string(1, ch), 1000) || trickle.peer_closed())
      break;
    std::this_thread::sleep_for(200ms);
    if (ms_since(t0) > 5000)
      break;
  }
  EXPECT_TRUE(trickle.wait_closed(3000)) << "a trickled head should be closed after 1 s";
  EXPECT_LT(ms_since(t0), 4000);
  // A connection that sends nothing at all is not held either.
  raw_conn silent;
  ASSERT_TRUE(silent.connect(srv.port(), "127.0.0.4"));
  EXPECT_TRUE(silent.wait_closed(4000)) << "a silent connection should be closed after 1 s";
  // A complete request is still served.
  EXPECT_GE(live_ms("127.0.0.4"), 0);
  expect_alive("stalled heads");
}

// -- WebSocket frames refused by their declared length
// ---------------------------------------------

TEST_F(HostileTest, WebSocketFramesDeclaringGigabytesAreClosedWith1009AndCostNoMemory) {
  auto target = monitor_target();
  ASSERT_FALSE(target.empty());
  auto rss0 = vm_rss_kib(srv.pid());
  ASSERT_GT(rss0, 0);
  const std::vector<uint64_t> lengths = {1ull << 30, 2ull << 30, 4ull << 30,
                                         4ull << 30, 65537,      70 * 1024};
  std::vector<raw_conn> socks(lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i) {
    ASSERT_TRUE(socks[i].connect(srv.port()));
    ASSERT_EQ(ws_raw::handshake(socks[i], target), 101);
    // 14 bytes: FIN+text, masked, 64-bit length, mask key. No payload follows.
    ASSERT_TRUE(socks[i].send(ws_raw::frame_header(0x1, lengths[i])));
  }
  long peak = rss0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    auto code = ws_raw::read_close_code(socks[i], 5000);
    peak = std::max(peak, vm_rss_kib(srv.pid()));
    EXPECT_TRUE(code.has_value()) << "no close frame for a frame declaring " << lengths[i]
                                  << " bytes";
    if (code) {
      EXPECT_EQ(*code, 1009) << "declared " << lengths[i];
    }
    EXPECT_TRUE(socks[i].wait_closed(3000)) << "declared " << lengths[i];
  }
  auto grown_mib = (peak - rss0) / 1024;
  std::cout << "[ measure  ] RSS " << rss0 / 1024 << " MiB before, peak " << peak / 1024
            << " MiB after six lying frame headers\n";
  RecordProperty("rss_growth_mib", static_cast<int>(grown_mib));
  EXPECT_LT(grown_mib, rss_budget_mib);
  // A length with the top bit set is not a length at all (RFC 6455 §5.2): closed, no memory.
  raw_conn invalid;
  ASSERT_TRUE(invalid.connect(srv.port()));
  ASSERT_EQ(ws_raw::handshake(invalid, target), 101);
  invalid.send(ws_raw::frame_header(0x1, (1ull << 63) + 1));
  auto code = ws_raw::read_close_code(invalid, 5000);
  EXPECT_TRUE(code.has_value() && (*code == 1009 || *code == 1002)) << "code " << code.value_or(0);
  EXPECT_LT((vm_rss_kib(srv.pid()) - rss0) / 1024, rss_budget_mib);
  expect_alive("WebSocket frames declaring gigabytes");
}

TEST_F(HostileTest, AWebSocketFrameOfExactly64KiBIsNotRefused) {
  auto target = monitor_target();
  ASSERT_FALSE(target.empty());
  raw_conn c;
  ASSERT_TRUE(c.connect(srv.port()));
  ASSERT_EQ(ws_raw::handshake(c, target), 101);
  std::string ping = R"({"type":"ping"})";
  ping += std::string(64 * 1024 - ping.size(), ' ');
  ASSERT_TRUE(c.send(ws_raw::frame(0x1, ping)));
  EXPECT_TRUE(c.read_until("pong", 5000)) << "a 64 KiB frame is within the limit";
  EXPECT_FALSE(ws_raw::read_close_code(c, 200).has_value());
}

// The refused payload does arrive (a real client sends it): the server reads none of it, and the
// 1009 still reaches the client. (Over loopback a close with the payload unread would deliver the
// 1009 too; the linger after it is for real networks, where that reset drops unsent data.)
TEST_F(HostileTest, AnOversizedFrameSentInFullStillGets1009) {
  auto target = monitor_target();
  ASSERT_FALSE(target.empty());
  for (int i = 0; i < 5; ++i) {
    raw_conn c;
    ASSERT_TRUE(c.connect(srv.port()));
    ASSERT_EQ(ws_raw::handshake(c, target), 101);
    ASSERT_TRUE(c.send(ws_raw::frame(0x1, std::string(200 * 1024, 'x'))));
    auto code = ws_raw::read_close_code(c, 5000);
    ASSERT_TRUE(code.has_value()) << "attempt " << i << ": no close frame, only a reset";
    EXPECT_EQ(*code, 1009);
    EXPECT_TRUE(c.wait_closed(5000));
  }
  expect_alive("oversized frames sent in full");
}

// -- one client's bad data never fails another's write
// ----------------------------------------------

TEST_F(HostileTest, OneUsersBadAgentMessagesNeverFailAnothersWrites) {
  auto mallory = user_token("mallory");
  auto alice = user_token("alice");
  auto bad_wf = paused_workflow(mallory);
  auto good_wf = paused_workflow(alice);
  ASSERT_FALSE(bad_wf.empty());
  ASSERT_FALSE(good_wf.empty());
  constexpr int per_thread = 30;
  constexpr int threads = 3;
  std::atomic<int> good_created{0}, good_503{0}, good_other{0}, bad_5xx{0}, bad_422{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        json content = {{"text", "bad " + nul}, {nul, "key"}, {"n", i}};
        if (i % 3 == 1)
          content = {{"nested", {{"deeper", {"x", nul}}}}};
        json m = {{"from_agent", "chat"},
                  {"to_agent", "web_development"},
                  {"message_type", "request"},
                  {"content", content}};
        if (i % 3 == 2)
          m["metadata"] = {{"note", nul}};
        auto r = http_call("POST", srv.base_url() + "/api/agents/workflows/" + bad_wf + "/messages",
                           m.dump(), {bearer(mallory)});
        bad_5xx += r.status >= 500 || r.status == 0;
        bad_422 += r.status == 422;
      }
    });
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        json m = {{"from_agent", "chat"},
                  {"to_agent", "web_development"},
                  {"message_type", "request"},
                  {"content", {{"marker", "good-" + std::to_string(t) + "-" + std::to_string(i)}}}};
        auto r =
            http_call("POST", srv.base_url() + "/api/agents/workflows/" + good_wf + "/messages",
                      m.dump(), {bearer(alice)});
        if (r.status == 201)
          ++good_created;
        else if (r.status == 503)
          ++good_503;
        else
          ++good_other;
      }
    });
  }
  for (auto& th : pool)
    th.join();
  std::cout << "[ measure  ] good: " << good_created << " x 201, " << good_503 << " x 503, "
            << good_other << " other; bad: " << bad_422 << " x 422, " << bad_5xx << " x 5xx\n";
  EXPECT_EQ(good_created, threads * per_thread);
  EXPECT_EQ(good_503, 0);
  EXPECT_EQ(good_other, 0);
  EXPECT_EQ(bad_5xx, 0);
  EXPECT_EQ(bad_422, threads * per_thread);
  // Every good message answered 201 is stored, each once.
  auto list = json::parse(
      get("/api/agents/workflows/" + good_wf + "/messages?limit=100", {bearer(alice)}).body);
  EXPECT_EQ(list["total"], threads * per_thread) << list.dump().substr(0, 400);
  std::set<std::string> markers;
  for (auto& m : list["items"])
    markers.insert(m["content"].value("marker", std::string{}));
  EXPECT_EQ(markers.size(), static_cast<size_t>(threads * per_thread));
  expect_alive("concurrent bad and good agent messages");
}

// Agents' own messages (a model's tool call, which a prompt can steer) carry a NUL: the mirror
// must not let that row fail anyone else's.
TEST_F(HostileTest, AnAgentsMessageWithNulNeverFailsAnotherUsersWrites) {
  auto alice = user_token("alice");
  auto good_wf = paused_workflow(alice);
  ASSERT_FALSE(good_wf.empty());
  auto send = [](json content) {
    return json{{"function",
                 {{"name", "send_message"},
                  {"arguments",
                   {{"to_agent", "content_creation"},
                    {"message_type", "request"},
                    {"content", content}}}}}};
  };
  fake_llm_script poison;
  poison.tokens = {};
  poison.tool_calls =
      json::array({send({{"task", "x" + nul}}), send({{nul, "y"}}), send({{"ok", "fine"}})});
  fake_llm_script done;
  done.tokens = {"done [FINAL]"};
  // By who asks, not by queue order: the two agents of a collaborative run ask concurrently, and
  // content_creation's messages to itself are refused before the mirror (an ASan run once gave
  // it the poisoned script and lost the step's clean row that way). digital_marketing sends the
  // messages on its first call of a step; a call after tool results ends the step.
  model.respond([poison, done](const json& req) {
    auto text = req.dump();
    bool after_tools = text.find(R"("role":"tool")") != std::string::npos;
    bool marketer = text.find("digital marketing strategist") != std::string::npos;
    return marketer && !after_tools ? poison : done;
  });
  std::atomic<bool> stop{false};
  std::atomic<int> created{0}, failed{0};
  std::thread good([&] {
    for (int i = 0; i < 200 && !stop; ++i) {
      json m = {{"from_agent", "chat"},
                {"to_agent", "web_development"},
                {"message_type", "notification"},
                {"content", {{"marker", "good-" + std::to_string(i)}}}};
      auto r = http_call("POST", srv.base_url() + "/api/agents/workflows/" + good_wf + "/messages",
                         m.dump(), {bearer(alice)});
      (r.status == 201 ? created : failed) += 1;
    }
  });
  auto mallory = user_token("mallory");
  std::vector<std::string> bad_ids;
  for (int i = 0; i < 3; ++i) {
    auto r = post("/api/agents/workflows/execute?wait=30",
                  {{"workflow_type", "collaborative"},
                   {"participating_agents", {"digital_marketing", "content_creation"}},
                   {"workflow_config", {{"max_rounds", 1}}},
                   {"input_data", {{"message", "go"}}}},
                  {bearer(mallory)});
    EXPECT_LT(r.status, 500) << r.body;
    bad_ids.push_back(json::parse(r.body, nullptr, false).value("workflow_id", std::string{}));
  }
  stop = true;
  good.join();
  EXPECT_EQ(failed, 0);
  // The clean message sent in the same step as the poisoned ones is stored all the same.
  for (auto& id : bad_ids) {
    auto msgs = get("/api/agents/workflows/" + id + "/messages", {bearer(mallory)});
    EXPECT_EQ(msgs.status, 200) << msgs.body;
    EXPECT_NE(msgs.body.find("fine"), std::string::npos)
        << "the clean row of a batch with bad rows was lost: " << msgs.body.substr(0, 400);
  }
  auto list = json::parse(
      get("/api/agents/workflows/" + good_wf + "/messages?limit=100&offset=0", {bearer(alice)})
          .body);
  EXPECT_EQ(list["total"], created.load()) << "some 201 messages were never stored";
  expect_alive("agent messages with NUL from a model");
}

// -- shared memory scopes (§7 v1.1)
// -----------------------------------------------------------------

class HostileMemoryTest : public HostileTest {
public:
  /// Runs a one-agent workflow for `token` whose agent calls `tool` with `args`, then answers.
  /// Returns the workflow id and what the tool answered the agent.
  std::pair<std::string, std::string> run_tool(const std::string& token, const std::string& tool,
                                               json args) {
    fake_llm_script call_tool;
    call_tool.tokens = {};
    call_tool.tool_calls = json::array({{{"function", {{"name", tool}, {"arguments", args}}}}});
    fake_llm_script text;
    text.tokens = {"ok"};
    model.queue({call_tool, text});
    auto before = model.requests().size();
    auto r = post("/api/agents/workflows/execute?wait=30",
                  {{"workflow_type", "sequential"},
                   {"participating_agents", {"chat"}},
                   {"input_data", {{"message", "use memory"}}}},
                  {bearer(token)});
    EXPECT_EQ(r.status, 200) << r.body;
    auto id = json::parse(r.body, nullptr, false).value("workflow_id", std::string{});
    std::string answer;
    auto sent = model.requests();
    for (size_t i = before; i < sent.size(); ++i)
      for (auto& m : sent[i]["messages"])
        if (m["role"] == "tool")
          answer += m["content"].get<std::string>();
    return {id, answer};
  }

  json memory_of(const std::string& id, const std::string& token) {
    auto r = get("/api/agents/workflows/" + id + "/memory", {bearer(token)});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false)["items"];
  }

  static bool has_key(const json& items, const std::string& key) {
    for (auto& i : items)
      if (i["key"] == key)
        return true;
    return false;
  }
};

TEST_F(HostileMemoryTest, GlobalScopeIsGlobalToTheOwnerOnly) {
  auto a = user_token("owner-a");
  auto b = user_token("owner-b");
  auto [wa, wrote] = run_tool(
      a, "remember", {{"key", "secret_plan"}, {"value", "A-ONLY-7731"}, {"scope", "global"}});
  EXPECT_NE(wrote.find("true"), std::string::npos) << "the write itself: " << wrote;
  // Another owner's workflow: recall finds nothing, and its memory lists nothing of A's.
  auto [wb, seen] = run_tool(b, "recall", {{"key", "secret_plan"}, {"scope", "global"}});
  EXPECT_EQ(seen.find("A-ONLY-7731"), std::string::npos)
      << "B's agent read A's global key: " << seen;
  auto items_b = memory_of(wb, b);
  EXPECT_FALSE(has_key(items_b, "secret_plan")) << items_b;
  EXPECT_EQ(items_b.dump().find("A-ONLY-7731"), std::string::npos) << items_b;
  // B writing the same key does not touch A's value.
  run_tool(b, "remember", {{"key", "secret_plan"}, {"value", "B-VALUE"}, {"scope", "global"}});
  // The same owner's next workflow does read it (global to the owner).
  auto [wa2, mine] = run_tool(a, "recall", {{"key", "secret_plan"}, {"scope", "global"}});
  EXPECT_NE(mine.find("A-ONLY-7731"), std::string::npos)
      << "A's own workflows share global keys: " << mine;
  EXPECT_EQ(mine.find("B-VALUE"), std::string::npos) << mine;
  // And B never sees A's through GET memory of any of its workflows.
  auto [wb2, again] = run_tool(b, "recall", {{"key", "secret_plan"}, {"scope", "global"}});
  EXPECT_EQ(again.find("A-ONLY-7731"), std::string::npos) << again;
  EXPECT_EQ(memory_of(wb2, b).dump().find("A-ONLY-7731"), std::string::npos);
  // An admin reading A's workflow sees A's memory (admins see all), B's workflow not A's key.
  EXPECT_EQ(memory_of(wb2, admin_token()).dump().find("A-ONLY-7731"), std::string::npos);
  expect_alive("global memory across owners");
}

TEST_F(HostileMemoryTest, OnlyAdminRunsWriteTheSystemScope) {
  auto a = user_token("owner-a");
  auto b = user_token("owner-b");
  auto [wa, answer] =
      run_tool(a, "remember", {{"key", "sys_key"}, {"value", "FROM-A-5521"}, {"scope", "system"}});
  auto [wb, seen] = run_tool(b, "recall", {{"key", "sys_key"}, {"scope", "system"}});
  EXPECT_EQ(seen.find("FROM-A-5521"), std::string::npos)
      << "a user wrote the system scope: " << seen;
  auto [wadm, wrote] =
      run_tool(admin_token(), "remember",
               {{"key", "sys_key2"}, {"value", "FROM-ADMIN-9"}, {"scope", "system"}});
  auto [wb2, read] = run_tool(b, "recall", {{"key", "sys_key2"}, {"scope", "system"}});
  EXPECT_NE(read.find("FROM-ADMIN-9"), std::string::npos)
      << "every run reads the system scope: " << read;
  expect_alive("system memory scope");
}

// -- wrong answers and work bounded before it is done
// ----------------------------------------------

TEST_F(HostileTest, PhoneOverFortyCharactersIs422WithALoc) {
  auto lead = valid_lead();
  lead["lead_data"]["phone"] = std::string(41, '1');
  auto r = attack("41-character phone", "POST", "/api/leads/submit", lead.dump());
  EXPECT_TRUE(is_422_at(r, {"body", "lead_data", "phone"}));
  lead["lead_data"]["phone"] = "+" + std::string(39, '1');
  EXPECT_EQ(post("/api/leads/submit", lead).status, 201) << "40 characters are allowed";
  // Long values in fields without a stated limit never reach the database as a 5xx.
  for (auto field : {"company", "email", "name"}) {
    auto l = valid_lead();
    l["lead_data"][field] =
        std::string(100 * 1024, 'c') + (std::string{field} == "email" ? "@example.com" : "");
    attack(std::string{"100 KiB "} + field, "POST", "/api/leads/submit", l.dump());
  }
  auto l = valid_lead();
  l["lead_data"]["services_interested"] = std::vector<std::string>(20, std::string(50 * 1024, 's'));
  attack("20 x 50 KiB services", "POST", "/api/leads/submit", l.dump());
}

TEST_F(HostileTest, InvokeWithAClientChosenConversationIdAnswers200) {
  for (int i = 0; i < 20; ++i) {
    auto id = "client_Conv-" + std::to_string(i) + std::string(static_cast<size_t>(i), 'x');
    auto r =
        post("/api/agents/invoke",
             {{"agent_type", "chat"}, {"input_data", {{"message", "hi"}}}, {"conversation_id", id}},
             {bearer(user_token())});
    ASSERT_EQ(r.status, 200) << "attempt " << i << " with " << id << ": " << r.body;
    EXPECT_EQ(json::parse(r.body)["conversation_id"], id);
  }
  auto longest = std::string(128, 'z');
  auto r = post(
      "/api/agents/invoke",
      {{"agent_type", "chat"}, {"input_data", {{"message", "hi"}}}, {"conversation_id", longest}},
      {bearer(user_token())});
  EXPECT_EQ(r.status, 200) << r.body;
  auto bad = post(
      "/api/agents/invoke",
      {{"agent_type", "chat"}, {"input_data", {{"message", "hi"}}}, {"conversation_id", "a/b"}},
      {bearer(user_token())});
  EXPECT_TRUE(is_422_at(bad, {"body", "conversation_id"}));
}

TEST_F(HostileTest, LargeInvokeInputIsBoundedBeforeWork) {
  auto rss0 = vm_rss_kib(srv.pid());
  // ~60 KB three ways: flat, 32 levels with a wide bottom, and too deep (the old 4.8 s case).
  json flat = json::object();
  for (int i = 0; i < 3000; ++i)
    flat["k" + std::to_string(i)] = "value-" + std::to_string(i);
  std::string wide_leaf = "[";
  for (int i = 0; i < 30000; ++i)
    wide_leaf += i ? ",0" : "0";
  wide_leaf += "]";
  std::vector<std::pair<std::string, std::string>> bodies = {
      {"flat 60 KB", R"({"agent_type":"chat","input_data":)" + flat.dump() + "}"},
      {"32 levels, wide", R"({"agent_type":"chat","input_data":{"message":"hi","d":)" +
                              nested(29, false, wide_leaf) + "}}"},
      {"30,000 levels",
       R"({"agent_type":"chat","input_data":{"message":"hi","d":)" + nested(30000) + "}}"},
  };
  long peak = rss0;
  for (auto& [what, body] : bodies) {
    auto t0 = clock_type::now();
    auto r = attack("invoke " + what, "POST", "/api/agents/invoke", body, {bearer(user_token())});
    auto ms = ms_since(t0);
    peak = std::max(peak, vm_rss_kib(srv.pid()));
    std::cout << "[ measure  ] invoke " << what << " (" << body.size() / 1024
              << " KiB): " << r.status << " in " << ms << " ms\n";
    EXPECT_LT(ms, 2000 * slow_build_factor) << what;
  }
  EXPECT_LT((peak - rss0) / 1024, rss_budget_mib)
      << "RSS grew from " << rss0 / 1024 << " to " << peak / 1024 << " MiB";
}

} // namespace pixelcraft::test
