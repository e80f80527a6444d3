// Authentication and roles over HTTP (API.md §2).
#include "http/auth.hpp"
#include "tests/integration/server_fixture.hpp"

namespace pixelcraft::test {

using AuthTest = ServerTest;

TEST_F(AuthTest, AdminRoutesNeedATokenThenTheAdminRole) {
  auto none = get("/api/leads");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  EXPECT_TRUE(json::parse(none.body)["detail"].is_string());
  auto user = get("/api/leads", {bearer(user_token())});
  EXPECT_EQ(user.status, 403);
  EXPECT_EQ(get("/api/leads", {bearer(admin_token())}).status, 200);
  auto now = static_cast<long long>(std::time(nullptr));
  auto md_admin = sign({{"sub", "u9"},
                        {"aud", {"x", "authenticated"}},
                        {"exp", now + 60},
                        {"app_metadata", {{"role", "admin"}}}});
  EXPECT_EQ(get("/api/leads", {bearer(md_admin)}).status, 200);
}

TEST_F(AuthTest, BadTokensAre401EvenOnOpenRoutes) {
  auto now = static_cast<long long>(std::time(nullptr));
  std::vector<std::string> bad = {
      sign({{"sub", "u"}, {"aud", "authenticated"}, {"exp", now - 3600}}), // expired
      sign({{"sub", "u"}, {"aud", "authenticated"}}),                      // no exp
      sign({{"sub", "u"}, {"aud", "someone-else"}, {"exp", now + 60}}),    // wrong aud
      http::jwt_sign_hs256(json({{"sub", "u"}, {"aud", "authenticated"}, {"exp", now + 60}}).dump(),
                           "wrong-secret"),
      http::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
          http::base64url_encode(json({{"sub", "u"},
                                       {"aud", "authenticated"},
                                       {"exp", now + 60},
                                       {"role", "service_role"}})
                                     .dump()) +
          ".",
      "garbage"};
  for (auto& t : bad) {
    auto r = post("/api/leads/submit", valid_lead(), {bearer(t)});
    EXPECT_EQ(r.status, 401) << t;
    EXPECT_EQ(r.header("www-authenticate"), "Bearer");
    EXPECT_EQ(get("/api/leads", {bearer(t)}).status, 401) << t;
  }
  EXPECT_EQ(post("/api/leads/submit", valid_lead(), {"Authorization: Basic dTpw"}).status, 401);
}

// RFC 9110 §5.5: white space around a field value is not part of it. Two credentials are
// refused: a proxy in front of us may have read the other one.
TEST_F(AuthTest, TokensAreTrimmedAndTwoAuthorizationHeadersAreRefused) {
  EXPECT_EQ(get("/api/leads", {"Authorization: Bearer  " + admin_token() + " \t"}).status, 200);
  auto two = get("/api/leads", {bearer(admin_token()), "Authorization: Bearer garbage"});
  EXPECT_EQ(two.status, 401);
  EXPECT_EQ(json::parse(two.body)["detail"], "more than one Authorization header");
  EXPECT_EQ(get("/api/leads", {bearer(admin_token()), bearer(admin_token())}).status, 401);
  auto crit = http::jwt_sign_hs256(
      json({{"sub", "u"}, {"aud", "authenticated"}, {"exp", std::time(nullptr) + 60}}).dump(),
      secret, R"({"alg":"HS256","typ":"JWT","crit":["b64"],"b64":false})");
  EXPECT_EQ(get("/api/leads", {bearer(crit)}).status, 401);
}

TEST_F(AuthTest, AnonKeyCountsAsAnonymous) {
  auto now = static_cast<long long>(std::time(nullptr));
  auto anon = sign({{"role", "anon"}, {"iss", "supabase"}, {"exp", now + 600}});
  EXPECT_EQ(post("/api/leads/submit", valid_lead(), {bearer(anon)}).status, 201);
  EXPECT_EQ(get("/api/leads", {bearer(anon)}).status, 401);
}

} // namespace pixelcraft::test
