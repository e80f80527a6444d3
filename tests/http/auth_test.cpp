#include "actors/ids.hpp"
#include "http/auth.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace pixelcraft::http;
using nlohmann::json;

namespace {

constexpr int64_t now = 1800000000;
const std::string secret = "super-secret-test-key-of-some-length";

std::string token(json claims, const std::string& key = secret) {
  return jwt_sign_hs256(claims.dump(), key);
}

json user_claims() {
  return {{"sub", "user-1"}, {"aud", "authenticated"}, {"exp", now + 600}, {"iat", now - 10}};
}

jwt_verifier verifier() {
  return jwt_verifier{secret, "authenticated"};
}

} // namespace

TEST(JwtTest, ValidUserToken) {
  auto r = verifier().verify(token(user_claims()), now);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.who.who, role::user);
  EXPECT_EQ(r.who.sub, "user-1");
}

TEST(JwtTest, AdminByServiceRoleOrAppMetadata) {
  auto c = user_claims();
  c["role"] = "service_role";
  EXPECT_EQ(verifier().verify(token(c), now).who.who, role::admin);
  auto d = user_claims();
  d["role"] = "authenticated";
  d["app_metadata"] = {{"role", "admin"}};
  EXPECT_EQ(verifier().verify(token(d), now).who.who, role::admin);
  auto e = user_claims();
  e["user_metadata"] = {{"role", "admin"}}; // user-editable: never grants admin
  EXPECT_EQ(verifier().verify(token(e), now).who.who, role::user);
}

TEST(JwtTest, ExpiredTokenIsRefused) {
  auto c = user_claims();
  c["exp"] = now - 3600;
  auto r = verifier().verify(token(c), now);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "token expired");
  c["exp"] = now - 10; // within the 30 s leeway
  EXPECT_TRUE(verifier().verify(token(c), now).ok);
}

TEST(JwtTest, MissingExpIsRefused) {
  auto c = user_claims();
  c.erase("exp");
  EXPECT_FALSE(verifier().verify(token(c), now).ok);
  c["exp"] = "tomorrow";
  EXPECT_FALSE(verifier().verify(token(c), now).ok);
}

TEST(JwtTest, AlgNoneIsRefused) {
  auto header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  auto payload = base64url_encode(user_claims().dump());
  EXPECT_FALSE(verifier().verify(header + "." + payload + ".", now).ok);
  // Same token with the HS256 signature of the "none" header: alg is pinned, still refused.
  auto signed_none = jwt_sign_hs256(user_claims().dump(), secret);
  auto parts = signed_none.substr(signed_none.find('.'));
  EXPECT_FALSE(verifier().verify(header + parts, now).ok);
  auto hs512 = base64url_encode(R"({"alg":"HS512","typ":"JWT"})");
  EXPECT_FALSE(verifier().verify(hs512 + parts, now).ok);
}

// RFC 7515 §4.1.11: a header that makes an extension critical (here: an unencoded payload)
// is refused, even correctly signed.
TEST(JwtTest, CriticalHeaderExtensionsAreRefused) {
  auto crit = jwt_sign_hs256(user_claims().dump(), secret,
                             R"({"alg":"HS256","typ":"JWT","crit":["b64"],"b64":false})");
  auto r = verifier().verify(crit, now);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "unsupported token header (crit)");
  EXPECT_TRUE(verifier().verify(jwt_sign_hs256(user_claims().dump(), secret), now).ok);
}

TEST(JwtTest, WrongKeyOrTamperedPayloadIsRefused) {
  EXPECT_EQ(verifier().verify(token(user_claims(), "other-key"), now).error,
            "invalid token signature");
  auto t = token(user_claims());
  auto d1 = t.find('.');
  auto d2 = t.find('.', d1 + 1);
  auto c = user_claims();
  c["role"] = "service_role";
  auto forged = t.substr(0, d1 + 1) + base64url_encode(c.dump()) + t.substr(d2);
  EXPECT_FALSE(verifier().verify(forged, now).ok);
  EXPECT_FALSE(verifier().verify(t.substr(0, t.size() - 2), now).ok);
  EXPECT_FALSE(verifier().verify("not-a-token", now).ok);
  EXPECT_FALSE(verifier().verify("a.b.c.d", now).ok);
}

TEST(JwtTest, AudienceStringOrArray) {
  auto c = user_claims();
  c["aud"] = "someone-else";
  EXPECT_EQ(verifier().verify(token(c), now).error, "token audience mismatch");
  c["aud"] = json::array({"x", "authenticated"});
  EXPECT_TRUE(verifier().verify(token(c), now).ok);
  c["aud"] = json::array({"x", "y"});
  EXPECT_FALSE(verifier().verify(token(c), now).ok);
  c.erase("aud");
  EXPECT_FALSE(verifier().verify(token(c), now).ok);
}

TEST(JwtTest, SubjectRequiredExceptForAnonRole) {
  auto c = user_claims();
  c["sub"] = "";
  EXPECT_FALSE(verifier().verify(token(c), now).ok);
  json anon = {{"role", "anon"}, {"exp", now + 60}, {"iss", "supabase"}};
  auto r = verifier().verify(token(anon), now);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.who.who, role::anonymous);
  anon["exp"] = now - 3600; // anon tokens still expire
  EXPECT_FALSE(verifier().verify(token(anon), now).ok);
  EXPECT_FALSE(verifier().verify(token({{"role", "anon"}, {"exp", now + 60}}, "x"), now).ok);
}

TEST(JwtTest, NotBeforeAndIssuedAtInTheFutureAreRefused) {
  auto c = user_claims();
  c["nbf"] = now + 3600;
  EXPECT_FALSE(verifier().verify(token(c), now).ok);
  c["nbf"] = now + 20; // leeway
  EXPECT_TRUE(verifier().verify(token(c), now).ok);
  auto d = user_claims();
  d["iat"] = now + 3600;
  EXPECT_FALSE(verifier().verify(token(d), now).ok);
}

TEST(JwtTest, Base64UrlRoundTrip) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00x"}) {
    std::string out;
    ASSERT_TRUE(base64url_decode(base64url_encode(s), out));
    EXPECT_EQ(out, s);
  }
  std::string out;
  EXPECT_FALSE(base64url_decode("ab+c", out));
}

TEST(RandomTest, UuidsAreV4AndDistinct) {
  auto a = pixelcraft::random_uuid();
  auto b = pixelcraft::random_uuid();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string{"89ab"}.find(a[19]), std::string::npos);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
