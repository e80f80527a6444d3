#include "http/router.hpp"

#include <gtest/gtest.h>

using namespace pixelcraft::http;
using kind = router::match_result::kind_t;

namespace {

router make() {
  router r;
  r.add("GET", "/api/agents");
  r.add("GET", "/api/agents/{agent_type}");
  r.add("GET", "/api/agents/health");
  r.add("POST", "/api/agents/invoke");
  r.add("GET", "/api/leads/{lead_id}");
  r.add("PATCH", "/api/leads/{lead_id}");
  r.add("POST", "/api/leads/{lead_id}/analyze");
  r.add("GET", "/health");
  return r;
}

} // namespace

TEST(RouterTest, LiteralSegmentsWinOverParameters) {
  auto r = make();
  auto m = r.match("GET", "/api/agents/health");
  ASSERT_EQ(m.kind, kind::found);
  EXPECT_EQ(m.pattern, "/api/agents/health");
  auto p = r.match("GET", "/api/agents/chat");
  ASSERT_EQ(p.kind, kind::found);
  EXPECT_EQ(p.params["agent_type"], "chat");
  // A fixed path with another method is a 405, not the parameter route.
  auto inv = r.match("GET", "/api/agents/invoke");
  ASSERT_EQ(inv.kind, kind::method_not_allowed);
  EXPECT_EQ(inv.allowed, std::vector<std::string>{"POST"});
}

TEST(RouterTest, MethodNotAllowedListsMethods) {
  auto r = make();
  auto m = r.match("DELETE", "/api/leads/abc");
  ASSERT_EQ(m.kind, kind::method_not_allowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "HEAD", "PATCH"}));
  EXPECT_EQ(r.methods_for("/api/leads/abc"), (std::vector<std::string>{"GET", "HEAD", "PATCH"}));
  EXPECT_TRUE(r.methods_for("/nope").empty());
}

TEST(RouterTest, HeadFindsTheGetRoute) {
  auto r = make();
  auto h = r.match("HEAD", "/api/leads/abc");
  ASSERT_EQ(h.kind, kind::found);
  EXPECT_EQ(h.index, r.match("GET", "/api/leads/abc").index);
  EXPECT_EQ(h.params["lead_id"], "abc");
  // Not where there is no GET.
  auto post = r.match("HEAD", "/api/agents/invoke");
  ASSERT_EQ(post.kind, kind::method_not_allowed);
  EXPECT_EQ(post.allowed, std::vector<std::string>{"POST"});
}

TEST(RouterTest, UnknownPathsAndTrailingSlash) {
  auto r = make();
  EXPECT_EQ(r.match("GET", "/api/nothing").kind, kind::not_found);
  EXPECT_EQ(r.match("GET", "/").kind, kind::not_found);
  EXPECT_EQ(r.match("GET", "/health/").kind, kind::found);
  EXPECT_EQ(r.match("GET", "/api/leads//analyze").kind, kind::not_found);
}

TEST(RouterTest, ParametersArePercentDecoded) {
  auto r = make();
  auto m = r.match("POST", "/api/leads/a%20b/analyze");
  ASSERT_EQ(m.kind, kind::found);
  EXPECT_EQ(m.params["lead_id"], "a b");
}

TEST(RouterTest, QueryParsing) {
  auto q = parse_query("limit=10&search=caf%C3%A9+bar&flag&bad=%zz&");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"limit", "10"}));
  EXPECT_EQ(q[1].second, "café bar");
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(q[3].second, "%zz");
  std::string out;
  EXPECT_FALSE(percent_decode("%4", out));
  EXPECT_TRUE(percent_decode("%41", out));
  EXPECT_EQ(out, "A");
}
