// Hostile input at the HTTP layer (API.md §1, v1.1): the pure checks in http/validation.hpp,
// and `api::handle` answering the requests that are refused before any actor is asked (so no
// actor system or database is needed: every case below is answered synchronously).
#include "actors/agents/agent_catalog.hpp"
#include "http/api.hpp"
#include "http/auth.hpp"
#include "http/validation.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <optional>
#include <string>

using namespace pixelcraft::http;
using nlohmann::json;

namespace {

std::string nested(size_t depth) {
  // `depth` containers in all: an object around depth - 1 arrays.
  return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

std::vector<std::string> locs(const json& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors)
    out.push_back(e["loc"].dump());
  return out;
}

} // namespace

// -- pure checks ----------------------------------------------------------------------------

TEST(HostileInputTest, DepthThirtyTwoIsAcceptedThirtyThreeIsNot) {
  EXPECT_EQ(check_json_body(nested(32)).status, 0);
  auto r = check_json_body(nested(33));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.detail, "JSON nested deeper than 32 levels");
  auto deep = check_json_body(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(deep.status, 400);
  EXPECT_EQ(deep.detail, "JSON nested deeper than 32 levels");
}

TEST(HostileInputTest, BodiesThatAreNotJsonObjects) {
  EXPECT_EQ(check_json_body("").status, 422);
  EXPECT_EQ(check_json_body(" \r\n").errors[0]["type"], "missing");
  EXPECT_EQ(check_json_body("{").status, 400);
  EXPECT_EQ(check_json_body("[1]").detail, "request body must be a JSON object");
  EXPECT_EQ(check_json_body("{\"a\":\"\xff\xfe\"}").detail, "request body is not valid UTF-8");
  auto nul = check_json_body(std::string{"{}\0", 3});
  EXPECT_EQ(nul.status, 400);
  EXPECT_NE(nul.detail.find("NUL"), std::string::npos);
  EXPECT_EQ(check_json_body(std::string{"{}\0{\"x\":1}", 10}).status, 400);
  EXPECT_EQ(check_json_body("{} {}").status, 400);
}

TEST(HostileInputTest, NulStringsAreOneEntryPerField) {
  auto r = check_json_body(
      R"({"lead_data": {"name": "a\u0000b", "ok": "fine", "tags": ["x", "\u0000"]},
        "k\u0000": 1, "context": {"deep": {"v": "\u0000"}}})");
  ASSERT_EQ(r.status, 422);
  auto l = locs(r.errors);
  ASSERT_EQ(l.size(), 4u) << r.errors;
  for (auto want : {R"(["body","lead_data","name"])", R"(["body","lead_data","tags",1])",
                    R"(["body","k\u0000"])", R"(["body","context","deep","v"])"})
    EXPECT_NE(std::find(l.begin(), l.end(), want), l.end()) << want << " in " << r.errors;
  for (const auto& e : r.errors)
    EXPECT_EQ(e["type"], "value_error.nul");
  EXPECT_EQ(check_json_body(R"({"a": "\u0001 is not NUL"})").status, 0);
}

TEST(HostileInputTest, QueryTextMustBeStorable) {
  validator v;
  check_query_text({{"search", "café"}, {"limit", "5"}}, v);
  EXPECT_TRUE(v.ok());
  check_query_text({{"search", std::string{"a\0b", 3}},
                    {"assigned_to", "\xff"},
                    {"\xfe", "1"},
                    {"status", "\xC0\xAF"}}, // an overlong '/'
                   v);
  ASSERT_EQ(v.detail().size(), 4u);
  EXPECT_EQ(v.detail()[0]["loc"], json({"query", "search"}));
  EXPECT_EQ(v.detail()[0]["type"], "value_error.nul");
  EXPECT_EQ(v.detail()[1]["loc"], json({"query", "assigned_to"}));
  EXPECT_EQ(v.detail()[1]["type"], "value_error.utf8");
  EXPECT_EQ(v.detail()[3]["loc"], json({"query", "status"}));
  // The invalid name itself cannot be serialised as is: safe_dump replaces it, never throws.
  EXPECT_THROW((void)v.detail().dump(), json::type_error);
  EXPECT_NE(safe_dump(v.detail()).find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(HostileInputTest, IdempotencyKeys) {
  EXPECT_TRUE(valid_idempotency_key("a"));
  EXPECT_TRUE(valid_idempotency_key(std::string(255, '~')));
  EXPECT_TRUE(valid_idempotency_key("order-42:retry_1"));
  EXPECT_FALSE(valid_idempotency_key(""));
  EXPECT_FALSE(valid_idempotency_key(std::string(256, 'k')));
  EXPECT_FALSE(valid_idempotency_key("\xff\xfe"));
  EXPECT_FALSE(valid_idempotency_key("has space"));
  EXPECT_FALSE(valid_idempotency_key(std::string{"a\0b", 3}));
  EXPECT_FALSE(valid_idempotency_key("tab\there"));
  EXPECT_FALSE(valid_idempotency_key("caf\xC3\xA9"));
}

TEST(HostileInputTest, JsonSizeIsTheCompactDumpSizeAndStopsAtTheLimit) {
  for (const auto& j : {json::parse(R"({"a": [1, 2.5, -3, true, null, "x\"y\\z\n\u0001"],
                                        "b": {"c": {}}, "d": [], "é": "ü"})"),
                        json("plain"), json(12345), json::array(), json::object()})
    EXPECT_EQ(json_size_capped(j, 1 << 20), j.dump().size()) << j;
  json big = json::array();
  for (int i = 0; i < 100000; ++i)
    big.push_back("0123456789");
  EXPECT_EQ(json_size_capped(big, 1000), 1001u);
  validator v;
  EXPECT_FALSE(check_json_size(big, {"body", "input_data"}, 1000, v));
  EXPECT_EQ(v.detail()[0]["type"], "too_long");
  EXPECT_TRUE(check_json_size(json::object(), {"body", "x"}, 2, v));
}

TEST(HostileInputTest, PhonesFitTheStoredColumn) {
  auto lead = [](std::string phone) {
    return json{{"lead_data",
                 {{"name", "Ann"},
                  {"email", "ann@example.com"},
                  {"phone", phone},
                  {"message", "Hello"},
                  {"source", "other"}}}};
  };
  validator ok;
  lead_submission s;
  EXPECT_TRUE(validate_lead_request(lead("+" + std::string(39, '1')), ok, s)) << ok.detail();
  for (auto bad : {"+" + std::string(40, '1'), std::string(41, '1')}) {
    validator v;
    EXPECT_FALSE(validate_lead_request(lead(bad), v, s)) << bad;
    ASSERT_EQ(v.detail().size(), 1u);
    EXPECT_EQ(v.detail()[0]["loc"], json({"body", "lead_data", "phone"}));
  }
}

TEST(HostileInputTest, LeadPatchMetadataIsBounded) {
  json meta = json::object();
  for (int i = 0; i < 10000; ++i)
    meta["k" + std::to_string(i)] = "0123456789";
  validator v;
  json p;
  EXPECT_FALSE(validate_lead_patch({{"metadata", meta}}, v, p));
  EXPECT_EQ(v.detail()[0]["loc"], json({"body", "metadata"}));
  EXPECT_EQ(v.detail()[0]["type"], "too_long");
}

// -- the request pipeline ---------------------------------------------------------------------

namespace {

struct capture_sink : response_sink {
  std::optional<http_response> got;
  void send(http_response r) override { got = std::move(r); }
  stream_sink_ptr open_stream(http_response, std::function<void()>) override { return nullptr; }
  bool upgrade_websocket(ws_callbacks) override { return false; }
};

class HostileRequestTest : public ::testing::Test {
protected:
  HostileRequestTest() {
    api_options opts; // actor handles stay invalid: every case here is answered before any ask
    opts.jwt_secret = "test-secret";
    std::string err;
    opts.catalog =
        pixelcraft::agent_catalog::load(pixelcraft::agent_catalog::builtin_json(), "llama3", err);
    api_ = std::make_unique<api>(std::move(opts));
  }

  static std::string token(const json& claims) {
    auto c = claims;
    c["exp"] = static_cast<int64_t>(std::time(nullptr)) + 3600;
    c["aud"] = "authenticated";
    return jwt_sign_hs256(c.dump(), "test-secret");
  }

  struct reply {
    int status = 0;
    json body;
    std::string raw;
  };

  reply call(std::string method, std::string target, std::string body = {},
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    http_request r;
    r.method = std::move(method);
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? std::string{} : target.substr(q + 1);
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.remote_ip = "127.0.0.1";
    auto sink = std::make_shared<capture_sink>();
    api_->handle(std::move(r), sink);
    reply out;
    if (!sink->got)
      return out; // handed to an actor: not answered synchronously
    out.status = sink->got->status;
    out.raw = sink->got->body;
    out.body = json::parse(out.raw, nullptr, false);
    return out;
  }

  std::pair<std::string, std::string> user() {
    return {"authorization", "Bearer " + token({{"sub", "user-1"}})};
  }
  std::pair<std::string, std::string> admin() {
    return {"authorization", "Bearer " + token({{"sub", "admin-1"}, {"role", "service_role"}})};
  }

  std::unique_ptr<api> api_;
};

} // namespace

TEST_F(HostileRequestTest, DeepBodiesAre400OnEveryBodyRoute) {
  auto deep = std::string(100000, '[') + std::string(100000, ']');
  auto deep_field = R"({"context": )" + std::string(33, '[') + std::string(33, ']') + "}";
  for (auto [method, path] :
       {std::pair{"POST", "/api/chat/message"},
        {"POST", "/api/chat/stream"},
        {"POST", "/api/leads/submit"},
        {"POST", "/api/agents/invoke"},
        {"POST", "/api/agents/workflows/execute"},
        {"PATCH", "/api/agents/workflows/4787a34b-1e58-4764-888b-88963bd8b507/state"},
        {"PATCH", "/api/leads/4787a34b-1e58-4764-888b-88963bd8b507"}}) {
    for (const auto& body : {deep, deep_field}) {
      auto r = call(method, path, body, {admin(), {"idempotency-key", "k-1"}});
      EXPECT_EQ(r.status, 400) << method << " " << path;
      EXPECT_EQ(r.body["detail"], "JSON nested deeper than 32 levels") << r.raw;
    }
  }
}

TEST_F(HostileRequestTest, NulStringsAre422WithTheirLocation) {
  auto r = call("POST", "/api/chat/message",
                R"({"message": "hi", "context": {"a\u0000": 1, "b": ["\u0000"]}})");
  ASSERT_EQ(r.status, 422) << r.raw;
  auto l = locs(r.body["detail"]);
  EXPECT_EQ(l.size(), 2u) << r.raw;
  EXPECT_NE(std::find(l.begin(), l.end(), R"(["body","context","b",0])"), l.end()) << r.raw;
  // With an Idempotency-Key the body is checked before the key is claimed.
  auto lead = R"({"lead_data": {"name": "x\u0000"}})";
  auto k = call("POST", "/api/leads/submit", lead, {{"idempotency-key", "k-2"}});
  ASSERT_EQ(k.status, 422) << k.raw;
  EXPECT_EQ(k.body["detail"][0]["loc"], json({"body", "lead_data", "name"}));
  auto m = call("PATCH", "/api/leads/4787a34b-1e58-4764-888b-88963bd8b507",
                R"({"metadata": {"note": "\u0000"}})", {admin()});
  ASSERT_EQ(m.status, 422) << m.raw;
  EXPECT_EQ(m.body["detail"][0]["loc"], json({"body", "metadata", "note"}));
}

TEST_F(HostileRequestTest, BrokenBodiesAre400) {
  auto trailing_nul = std::string{R"({"message": "hi"})"} + '\0';
  EXPECT_EQ(call("POST", "/api/chat/message", trailing_nul).status, 400);
  EXPECT_EQ(call("POST", "/api/chat/message", "{\"message\": \"\xff\xfe\"}").status, 400);
  EXPECT_EQ(call("POST", "/api/chat/message", "[]").status, 400);
  // A body on a route that takes none is ignored, as before.
  EXPECT_EQ(call("GET", "/health/live", std::string(100000, '[')).status, 200);
}

TEST_F(HostileRequestTest, QueryParametersMustBeStorableText) {
  for (auto target :
       {"/api/leads?search=%ff", "/api/leads?assigned_to=a%00b", "/api/leads?%ff%fe=1"}) {
    auto r = call("GET", target, {}, {admin()});
    ASSERT_EQ(r.status, 422) << target << " " << r.raw;
    EXPECT_EQ(r.body["detail"][0]["loc"][0], "query");
  }
  for (auto target :
       {"/api/agents/workflows?conversation_id=%00", "/api/agents/workflows?workflow_type=%ff",
        "/api/agents/workflows?current_state=%c0%af",
        "/api/agents/workflows/4787a34b-1e58-4764-888b-88963bd8b507/messages"
        "?from_agent=%00",
        "/api/agents/workflows/4787a34b-1e58-4764-888b-88963bd8b507/messages"
        "?status=%ff"}) {
    auto r = call("GET", target, {}, {user()});
    ASSERT_EQ(r.status, 422) << target << " " << r.raw;
    EXPECT_EQ(r.body["detail"][0]["loc"][0], "query") << r.raw;
  }
  auto r = call("GET", "/api/leads?search=%00", {}, {admin()});
  EXPECT_EQ(r.body["detail"][0]["loc"], json({"query", "search"}));
}

TEST_F(HostileRequestTest, PathParametersWithNulOrBadUtf8AreNotFound) {
  for (auto target : {"/api/leads/%00", "/api/agents/%ff", "/api/chat/history/a%00b",
                      "/api/agents/workflows/%c3", "/api/models/%00"})
    EXPECT_EQ(call("GET", target, {}, {admin()}).status, 404) << target;
}

TEST_F(HostileRequestTest, IdempotencyKeyBytes) {
  for (auto key : {std::string{"\xff\xfe"}, std::string{}, std::string(256, 'k'),
                   std::string{"two words"}, std::string{"a\0b", 3}}) {
    auto r = call("POST", "/api/chat/message", R"({"message": "hi"})", {{"idempotency-key", key}});
    ASSERT_EQ(r.status, 422) << r.raw;
    EXPECT_EQ(r.body["detail"][0]["loc"], json({"header", "Idempotency-Key"}));
  }
}

TEST_F(HostileRequestTest, OtherHeadersNeverGiveA500) {
  for (auto [name, value] : {std::pair<std::string, std::string>{"authorization", "\xff\xfe"},
                             {"authorization", "Bearer \xff.\xfe.\x00"},
                             {"authorization", "Bearer " + std::string(10000, 'a')},
                             {"x-correlation-id", "\xff"},
                             {"origin", "http://\xff\r\n"},
                             {"accept", "\xff\xfe"}}) {
    auto r = call("GET", "/api/agents/nope", {}, {{name, value}});
    EXPECT_TRUE(r.status == 401 || r.status == 404) << name << " " << r.status << " " << r.raw;
  }
}

TEST_F(HostileRequestTest, InvokeAcceptsAValidClientConversationId) {
  // An unknown agent is a 404 only once validation passed: the id check must accept a valid id
  // every time (it once walked two different temporaries, undefined behaviour).
  for (int i = 0; i < 200; ++i) {
    auto r =
        call("POST", "/api/agents/invoke",
             R"({"agent_type": "no_such_agent", "conversation_id": "conv_ABC-123"})", {user()});
    ASSERT_EQ(r.status, 404) << r.raw;
  }
  for (auto bad : {std::string{R"("")"}, std::string{R"("a b")"}, std::string{"42"},
                   "\"" + std::string(129, 'x') + "\""}) {
    auto r =
        call("POST", "/api/agents/invoke",
             std::string{R"({"agent_type": "chat", "conversation_id": )"} + bad + "}", {user()});
    ASSERT_EQ(r.status, 422) << bad;
    EXPECT_EQ(r.body["detail"][0]["loc"], json({"body", "conversation_id"}));
  }
}

TEST_F(HostileRequestTest, InvokeChecksInputSizeBeforePrintingIt) {
  // 32 levels of small arrays: pretty-printing this grows with depth × size; the size check
  // refuses it first.
  std::string wide = R"({"agent_type": "chat", "input_data": {"x": )";
  std::string inner = "[" + std::string(27, '[') + "1" + std::string(27, ']') + "]";
  wide += "[";
  for (int i = 0; i < 2000; ++i)
    wide += (i ? "," : "") + inner;
  wide += "]}}";
  auto r = call("POST", "/api/agents/invoke", wide, {user()});
  ASSERT_EQ(r.status, 422) << r.raw.substr(0, 300);
  EXPECT_EQ(r.body["detail"][0]["loc"], json({"body", "input_data"}));
  EXPECT_EQ(r.body["detail"][0]["type"], "too_long");
}
