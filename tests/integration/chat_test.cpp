// Chat (API.md §4) against a fake Ollama speaking the real streaming protocol.
#include "tests/fakes/fake_llm.hpp"
#include "tests/integration/server_fixture.hpp"
#include "tests/support/eventually.hpp"

#include <thread>

namespace pixelcraft::test {

namespace {

struct sse_event {
  std::string event;
  std::string id;
  json data;
};

std::vector<sse_event> parse_sse(const std::string& body, int* pings = nullptr) {
  std::vector<sse_event> out;
  size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find("\n\n", pos);
    if (end == std::string::npos)
      break;
    auto block = body.substr(pos, end - pos);
    pos = end + 2;
    if (block.rfind(": ping", 0) == 0) {
      if (pings)
        ++*pings;
      continue;
    }
    sse_event e;
    std::istringstream in{block};
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("event: ", 0) == 0)
        e.event = line.substr(7);
      else if (line.rfind("id: ", 0) == 0)
        e.id = line.substr(4);
      else if (line.rfind("data: ", 0) == 0)
        e.data = json::parse(line.substr(6));
    }
    out.push_back(e);
  }
  return out;
}

} // namespace

class ChatTest : public ServerTest {
public:
  std::map<std::string, std::string> base_env() const override {
    auto env = ServerTest::base_env();
    env["OLLAMA_HOST"] = model.url();
    env["OLLAMA_MODEL"] = "llama3.2";
    env["LLM_STALL_TIMEOUT_S"] = "1";
    return env;
  }

  json chat(const json& body, std::vector<std::string> headers = {}) {
    auto r = post("/api/chat/message", body, std::move(headers));
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  stream_result stream(const json& body, std::vector<std::string> headers = {},
                       std::function<bool(const std::string&)> keep_going = {}) {
    return http_stream(srv.base_url() + "/api/chat/stream", body.dump(), headers,
                       std::move(keep_going));
  }

  fake_llm model;
};

TEST_F(ChatTest, MessageAnswersAndStoresBothSides) {
  auto r = chat({{"message", "  Hi, what do you do?  "}});
  EXPECT_EQ(r["response"], "Hello from the fake model.");
  EXPECT_EQ(r["agent_type"], "chat");
  EXPECT_EQ(r["metadata"]["model_used"], "llama3.2");
  EXPECT_EQ(r["metadata"]["degraded"], false);
  EXPECT_EQ(r["metadata"]["tokens_in"], 12);
  EXPECT_EQ(r["metadata"]["tokens_out"], 5);
  EXPECT_TRUE(r["metadata"]["latency_ms"].is_number());
  EXPECT_EQ(r["timestamp"].get<std::string>().back(), 'Z');
  auto id = r["conversation_id"].get<std::string>();
  EXPECT_GE(id.size(), 32u); // server-generated: a random UUID
  auto sent = model.requests().at(0);
  EXPECT_EQ(sent["model"], "llama3.2");
  EXPECT_EQ(sent["stream"], true);
  EXPECT_EQ(sent["messages"][0]["role"], "system");
  EXPECT_EQ(sent["messages"].back()["content"], "Hi, what do you do?");
  EXPECT_TRUE(sent["options"].contains("temperature"));
  EXPECT_TRUE(sent["options"].contains("num_predict"));
  EXPECT_TRUE(sent.contains("keep_alive"));

  auto h = get("/api/chat/history/" + id);
  ASSERT_EQ(h.status, 200) << h.body;
  auto hist = json::parse(h.body);
  EXPECT_EQ(hist["total"], 2);
  EXPECT_EQ(hist["conversation_id"], id);
  EXPECT_EQ(hist["messages"][0]["role"], "user");
  EXPECT_EQ(hist["messages"][0]["content"], "Hi, what do you do?");
  EXPECT_EQ(hist["messages"][1]["role"], "assistant");
  EXPECT_EQ(hist["messages"][1]["content"], "Hello from the fake model.");
  EXPECT_EQ(hist["messages"][1]["agent_type"], "chat");
}

TEST_F(ChatTest, IdempotencyKeyReplaysAChatMessage) {
  json body = {{"message", "Once only"}, {"conversation_id", "idem-chat"}};
  auto first = post("/api/chat/message", body, {"Idempotency-Key: chat-1"});
  ASSERT_EQ(first.status, 200) << first.body;
  auto again = post("/api/chat/message", body, {"Idempotency-Key: chat-1"});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(model.chat_calls(), 1) << "a replay must not call the model again";
  EXPECT_EQ(json::parse(get("/api/chat/history/idem-chat").body)["total"], 2);
  auto other =
      post("/api/chat/message", {{"message", "Different"}, {"conversation_id", "idem-chat"}},
           {"Idempotency-Key: chat-1"});
  EXPECT_EQ(other.status, 409);
  // A failed request releases its key: the client may retry with it.
  EXPECT_EQ(post("/api/chat/message", {{"message", ""}}, {"Idempotency-Key: chat-2"}).status, 422);
  EXPECT_EQ(post("/api/chat/message", {{"message", "fixed"}}, {"Idempotency-Key: chat-2"}).status,
            200);
}

TEST_F(ChatTest, SecondMessageSendsTheFirstExchange) {
  auto first = chat({{"message", "My shop sells bread."}, {"conversation_id", "conv-bakery_1"}});
  EXPECT_EQ(first["conversation_id"], "conv-bakery_1");
  chat({{"message", "What should my website have?"}, {"conversation_id", "conv-bakery_1"}});
  auto second = model.requests().at(1)["messages"];
  ASSERT_GE(second.size(), 4u) << second;
  EXPECT_EQ(second[second.size() - 3]["content"], "My shop sells bread.");
  EXPECT_EQ(second[second.size() - 2]["role"], "assistant");
  EXPECT_EQ(second[second.size() - 2]["content"], "Hello from the fake model.");
  EXPECT_EQ(second.back()["content"], "What should my website have?");
}

TEST_F(ChatTest, ConversationSurvivesAServerRestart) {
  chat({{"message", "Remember: my budget is 5k."}, {"conversation_id", "persist-me"}});
  ASSERT_EQ(srv.stop(), 0);
  start_server(base_env());
  chat({{"message", "What was my budget?"}, {"conversation_id", "persist-me"}});
  auto msgs = model.requests().at(1)["messages"];
  bool remembered = false;
  for (auto& m : msgs)
    remembered = remembered || m["content"] == "Remember: my budget is 5k.";
  EXPECT_TRUE(remembered) << msgs;
}

TEST_F(ChatTest, StreamDeliversChunksBeforeTheModelFinishes) {
  fake_llm_script s;
  s.tokens = {"One", " two", " three", " four", " five"};
  s.token_delay = std::chrono::milliseconds(250);
  model.script(s);
  auto r = stream({{"message", "Count to five"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"].rfind("text/event-stream", 0), 0u);
  EXPECT_FALSE(r.headers["x-correlation-id"].empty());
  // The first chunk event reached us before the model wrote its last token.
  std::chrono::steady_clock::time_point first_chunk{};
  std::string seen;
  for (auto& [at, piece] : r.pieces) {
    seen += piece;
    if (seen.find("event: chunk") != std::string::npos) {
      first_chunk = at;
      break;
    }
  }
  ASSERT_NE(first_chunk, std::chrono::steady_clock::time_point{});
  EXPECT_LT(first_chunk + std::chrono::milliseconds(500), model.last_finished_at());
  auto events = parse_sse(r.body());
  ASSERT_GE(events.size(), 2u) << r.body();
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].event, "chunk");
    EXPECT_EQ(events[i].data["done"], false);
    EXPECT_EQ(events[i].id, std::to_string(i + 1));
    text += events[i].data["chunk"].get<std::string>();
  }
  EXPECT_EQ(text, "One two three four five");
  auto& done = events.back();
  EXPECT_EQ(done.event, "done");
  EXPECT_EQ(done.data["done"], true);
  EXPECT_EQ(done.data["chunk"], "");
  EXPECT_TRUE(done.data["conversation_id"].is_string());
  EXPECT_EQ(done.data["metadata"]["model_used"], "llama3.2");
  // Both sides were stored.
  auto h =
      json::parse(get("/api/chat/history/" + done.data["conversation_id"].get<std::string>()).body);
  EXPECT_EQ(h["messages"][1]["content"], "One two three four five");
}

TEST_F(ChatTest, NdjsonFramingOnRequest) {
  auto r = stream({{"message", "hi"}}, {"Accept: application/x-ndjson"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"].rfind("application/x-ndjson", 0), 0u);
  std::istringstream in{r.body()};
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      lines.push_back(json::parse(line));
  ASSERT_GE(lines.size(), 2u);
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i)
    text += lines[i]["chunk"].get<std::string>();
  EXPECT_EQ(text, "Hello from the fake model.");
  EXPECT_EQ(lines.back()["done"], true);
  EXPECT_TRUE(lines.back().contains("metadata"));
}

TEST_F(ChatTest, DisconnectingCancelsTheModelCall) {
  fake_llm_script s;
  s.tokens = std::vector<std::string>(60, " word");
  s.token_delay = std::chrono::milliseconds(100);
  model.script(s);
  auto r = stream({{"message", "Write a long essay"}}, {}, [](const std::string& so_far) {
    return so_far.find("event: chunk") == std::string::npos; // hang up after the first chunk
  });
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(eventually([&] { return model.abandoned() == 1; }, 10))
      << "finished=" << model.finished() << " abandoned=" << model.abandoned();
  EXPECT_EQ(model.finished(), 0);
}

TEST_F(ChatTest, AGracefulStopDuringAModelCallEndsPromptly) {
  fake_llm_script slow;
  slow.tokens = {"a", "b", "c", "d", "e"};
  slow.token_delay = std::chrono::milliseconds(700);
  model.script(slow);
  std::thread client([&] { post("/api/chat/message", {{"message", "slow one"}}); });
  ASSERT_TRUE(eventually([&] { return model.chat_calls() >= 1; }, 10));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(srv.stop(), 0) << srv.stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  started = false;
  client.join();
}

TEST_F(ChatTest, AStallEndsTheStreamWithAnErrorEvent) {
  fake_llm_script s;
  s.stall_after_first = true;
  s.stall_for = std::chrono::milliseconds(3000);
  model.script(s);
  auto r = stream({{"message", "hello?"}});
  auto events = parse_sse(r.body());
  ASSERT_GE(events.size(), 2u) << r.body();
  EXPECT_EQ(events.front().event, "chunk");
  EXPECT_EQ(events.back().event, "error");
  EXPECT_EQ(events.back().data["done"], true);
  EXPECT_TRUE(events.back().data["error"].is_string());
}

TEST_F(ChatTest, AModelGoingDownMidStreamEndsWithAnErrorEvent) {
  for (bool drop : {true, false}) {
    fake_llm_script s;
    s.drop_after_first = drop;
    s.mid_stream_error = drop ? "" : "out of memory";
    model.script(s);
    auto r = stream({{"message", "hello"}});
    auto events = parse_sse(r.body());
    ASSERT_GE(events.size(), 2u) << r.body();
    EXPECT_EQ(events.front().event, "chunk");
    EXPECT_EQ(events.back().event, "error") << r.body();
    EXPECT_EQ(events.back().data["done"], true);
  }
  // Not retried: a token had already reached the client.
  EXPECT_EQ(model.chat_calls(), 2);
}

TEST_F(ChatTest, ModelErrorsBeforeTheFirstTokenAreRetriedThenDegrade) {
  fake_llm_script s;
  s.status = 500;
  model.script(s);
  auto r = chat({{"message", "anyone there?"}});
  EXPECT_EQ(r["metadata"]["degraded"], true);
  EXPECT_TRUE(r["metadata"]["model_used"].is_null());
  EXPECT_EQ(model.chat_calls(), 3); // first try + LLM_RETRIES (2)
}

TEST_F(ChatTest, ValidationAndOwnership) {
  EXPECT_EQ(post("/api/chat/message", {{"message", "   "}}).status, 422);
  EXPECT_EQ(post("/api/chat/message", json::object()).status, 422);
  auto bad = post("/api/chat/message", {{"message", "x"},
                                        {"agent_type", "astrologer"},
                                        {"conversation_id", "a b"},
                                        {"context", "nope"}});
  ASSERT_EQ(bad.status, 422);
  EXPECT_EQ(json::parse(bad.body)["detail"].size(), 3u);
  EXPECT_EQ(call("POST", "/api/chat/message", "[]").status, 400);
  // A user's conversation is theirs alone; an anonymous one is readable by its id.
  auto mine = chat({{"message", "private"}}, {bearer(user_token("alice"))});
  auto id = mine["conversation_id"].get<std::string>();
  EXPECT_EQ(get("/api/chat/history/" + id).status, 404);
  EXPECT_EQ(get("/api/chat/history/" + id, {bearer(user_token("bob"))}).status, 404);
  EXPECT_EQ(post("/api/chat/message", {{"message", "hijack"}, {"conversation_id", id}},
                 {bearer(user_token("bob"))})
                .status,
            404);
  EXPECT_EQ(get("/api/chat/history/" + id, {bearer(user_token("alice"))}).status, 200);
  EXPECT_EQ(get("/api/chat/history/" + id, {bearer(admin_token())}).status, 200);
  auto anon = chat({{"message", "public"}});
  EXPECT_EQ(get("/api/chat/history/" + anon["conversation_id"].get<std::string>()).status, 200);
  EXPECT_EQ(get("/api/chat/history/unknown-conversation").status, 404);
  EXPECT_EQ(get("/api/chat/history/" + id + "?limit=0", {bearer(user_token("alice"))}).status, 422);
}

TEST_F(ChatTest, DeleteRemovesTheConversation) {
  auto r = chat({{"message", "forget me"}, {"conversation_id", "to-delete"}});
  auto d = call("DELETE", "/api/chat/history/to-delete");
  ASSERT_EQ(d.status, 200) << d.body;
  auto body = json::parse(d.body);
  EXPECT_EQ(body["deleted"], true);
  EXPECT_EQ(body["conversation_id"], "to-delete");
  EXPECT_EQ(body["messages_deleted"], 2);
  EXPECT_EQ(get("/api/chat/history/to-delete").status, 404);
  EXPECT_EQ(call("DELETE", "/api/chat/history/to-delete").status, 404);
  // The same id starts afresh: the agent forgot the deleted turns too.
  chat({{"message", "new start"}, {"conversation_id", "to-delete"}});
  auto msgs = model.requests().back()["messages"];
  for (auto& m : msgs)
    EXPECT_NE(m["content"], "forget me");
}

TEST_F(ChatTest, OpenAiCompatibleProvider) {
  ASSERT_EQ(srv.stop(), 0);
  auto env = base_env();
  env["LLM_PROVIDER"] = "openai";
  env["OPENAI_BASE_URL"] = model.url();
  env["OPENAI_API_KEY"] = "sk-test-not-a-real-key";
  start_server(env);
  auto r = stream({{"message", "hi"}});
  auto events = parse_sse(r.body());
  ASSERT_GE(events.size(), 2u) << r.body();
  std::string text;
  for (auto& e : events)
    if (e.event == "chunk")
      text += e.data["chunk"].get<std::string>();
  EXPECT_EQ(text, "Hello from the fake model.");
  EXPECT_EQ(events.back().event, "done");
  EXPECT_EQ(events.back().data["metadata"]["tokens_out"], 5);
  EXPECT_EQ(srv.stderr_text().find("sk-test-not-a-real-key"), std::string::npos);
}

// The one deadline policy (actors/deadline.hpp): the turn carries the request's budget and the
// model call ends inside it, so the client hears the model was too slow, before the server's
// own deadline and not as a generic timeout; the model's connection is not left running.
TEST_F(ChatTest, ASlowModelEndsInsideTheRequestDeadlineWithItsOwnReason) {
  ASSERT_EQ(srv.stop(), 0);
  auto env = base_env();
  env["REQUEST_TIMEOUT_S"] = "3";
  start_server(env);
  fake_llm_script slow;
  slow.tokens = std::vector<std::string>(40, "word "); // 20 s of steady output: never stalls
  slow.token_delay = std::chrono::milliseconds(500);
  model.script(slow);
  auto t0 = std::chrono::steady_clock::now();
  auto r = post("/api/chat/message", {{"message", "hello"}});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 504) << r.body;
  auto detail = json::parse(r.body, nullptr, false).value("detail", std::string{});
  EXPECT_NE(detail.find("model did not"), std::string::npos) << r.body;
  EXPECT_LT(took, std::chrono::milliseconds(2900)) << "the server's own deadline ran out first";
}

class DegradedChatTest : public ServerTest {};

TEST_F(DegradedChatTest, NoModelStillAnswersHonestlyAndStores) {
  auto r = post("/api/chat/message", {{"message", "Is anyone there?"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["metadata"]["degraded"], true);
  EXPECT_TRUE(j["metadata"]["model_used"].is_null());
  EXPECT_NE(j["response"].get<std::string>().find("unavailable"), std::string::npos);
  auto h = json::parse(get("/api/chat/history/" + j["conversation_id"].get<std::string>()).body);
  EXPECT_EQ(h["total"], 2);
  auto s = http_stream(srv.base_url() + "/api/chat/stream", json{{"message", "hello"}}.dump(), {});
  auto events = parse_sse(s.body());
  ASSERT_GE(events.size(), 2u) << s.body();
  EXPECT_EQ(events.front().event, "chunk");
  EXPECT_EQ(events.back().event, "done");
  EXPECT_EQ(events.back().data["metadata"]["degraded"], true);
  // Leads still score by the rules.
  auto lead = post("/api/leads/submit", valid_lead());
  ASSERT_EQ(lead.status, 201);
  EXPECT_EQ(json::parse(lead.body)["analysis"]["method"], "rules");
}

} // namespace pixelcraft::test
