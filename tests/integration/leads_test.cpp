// Leads end to end (API.md §6) through the real server and database.
#include "tests/integration/server_fixture.hpp"

namespace pixelcraft::test {

using LeadsTest = ServerTest;

namespace {

const std::string admin_h = ServerTest::bearer(ServerTest::admin_token());

} // namespace

TEST_F(LeadsTest, SubmitReturns201WithRuleAnalysis) {
  auto r = post("/api/leads/submit", valid_lead());
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["status"], "received");
  EXPECT_EQ(j["lead_id"].get<std::string>().size(), 36u);
  EXPECT_EQ(j["created_at"].get<std::string>().back(), 'Z');
  auto& a = j["analysis"];
  // 25 + 15 + 10 + 10*14/20 (7) + 5*2/3 = 60.33 points -> round(86.19) = 86.
  EXPECT_EQ(a["lead_score"]["score"], 86);
  EXPECT_EQ(a["lead_score"]["priority"], "high");
  EXPECT_EQ(a["lead_score"]["factors"]["budget"], 25);
  EXPECT_EQ(a["lead_score"]["factors"]["timeline"], 15);
  EXPECT_EQ(a["lead_score"]["factors"]["company"], 10);
  EXPECT_EQ(a["lead_score"]["factors"]["message_detail"], 7);
  EXPECT_DOUBLE_EQ(a["lead_score"]["factors"]["services_interest"].get<double>(), 3.33);
  EXPECT_EQ(a["method"], "rules");
  EXPECT_TRUE(a["recommended_services"].is_array());
  EXPECT_TRUE(a["key_insights"].is_array());
  EXPECT_TRUE(a["suggested_actions"].is_array());

  auto stored = get("/api/leads/" + j["lead_id"].get<std::string>(), {admin_h});
  ASSERT_EQ(stored.status, 200) << stored.body;
  auto lead = json::parse(stored.body);
  EXPECT_EQ(lead["name"], "Zoë O'Connor");
  EXPECT_EQ(lead["status"], "new");
  EXPECT_EQ(lead["lead_score"], 86);
  EXPECT_EQ(lead["analysis"], a);
  EXPECT_EQ(lead["notes"], json::array());
  for (auto k :
       {"lead_id", "email", "company", "phone", "message", "services_interested", "budget_range",
        "timeline", "source", "assigned_to", "metadata", "created_at", "updated_at"})
    EXPECT_TRUE(lead.contains(k)) << k;
}

TEST_F(LeadsTest, AnalyzeFalseStoresNoAnalysis) {
  auto body = valid_lead();
  body["analyze"] = false;
  auto r = post("/api/leads/submit", body);
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = json::parse(r.body);
  EXPECT_TRUE(j["analysis"].is_null());
  auto lead = json::parse(get("/api/leads/" + j["lead_id"].get<std::string>(), {admin_h}).body);
  EXPECT_TRUE(lead["lead_score"].is_null());
}

TEST_F(LeadsTest, ValidationListsEveryFailingField) {
  json bad = {{"lead_data",
               {{"name", ""},
                {"email", "no-at-sign"},
                {"message", 5},
                {"source", "tv"},
                {"budget_range", "huge"}}}};
  auto r = post("/api/leads/submit", bad);
  ASSERT_EQ(r.status, 422);
  auto detail = json::parse(r.body)["detail"];
  ASSERT_TRUE(detail.is_array());
  std::vector<std::string> fields;
  for (auto& e : detail) {
    EXPECT_TRUE(e["msg"].is_string());
    EXPECT_TRUE(e["type"].is_string());
    EXPECT_EQ(e["loc"][0], "body");
    fields.push_back(e["loc"].back());
  }
  std::sort(fields.begin(), fields.end());
  EXPECT_EQ(fields,
            (std::vector<std::string>{"budget_range", "email", "message", "name", "source"}));
}

TEST_F(LeadsTest, MalformedBodiesAre400AndWrongTypesAre422) {
  EXPECT_EQ(call("POST", "/api/leads/submit", "{not json").status, 400);
  EXPECT_EQ(call("POST", "/api/leads/submit", "[1,2]").status, 400);
  EXPECT_EQ(call("POST", "/api/leads/submit", "\"text\"").status, 400);
  EXPECT_EQ(call("POST", "/api/leads/submit", "").status, 422);
  auto wrong = valid_lead();
  wrong["lead_data"]["services_interested"] = "web";
  EXPECT_EQ(post("/api/leads/submit", wrong).status, 422);
  auto wrong2 = valid_lead();
  wrong2["analyze"] = "yes";
  EXPECT_EQ(post("/api/leads/submit", wrong2).status, 422);
  // Server-owned fields in the body are ignored, unknown fields too.
  auto extra = valid_lead();
  extra["lead_data"]["status"] = "converted";
  extra["lead_data"]["lead_score"] = 100;
  extra["whatever"] = 1;
  auto ok = post("/api/leads/submit", extra);
  ASSERT_EQ(ok.status, 201) << ok.body;
  auto lead = json::parse(
      get("/api/leads/" + json::parse(ok.body)["lead_id"].get<std::string>(), {admin_h}).body);
  EXPECT_EQ(lead["status"], "new");
  EXPECT_EQ(lead["lead_score"], 86);
}

TEST_F(LeadsTest, ListFiltersSearchAndPagination) {
  auto a = valid_lead("Alice Anders");
  a["lead_data"]["email"] = "alice@wonder.example";
  auto b = valid_lead("Bob Brown");
  b["lead_data"]["budget_range"] = "0-1000";
  b["lead_data"]["timeline"] = "6-12_months";
  b["lead_data"].erase("company");
  b["lead_data"]["message"] = "Just browsing";
  b["lead_data"]["services_interested"] = json::array();
  ASSERT_EQ(post("/api/leads/submit", a).status, 201);
  auto rb = post("/api/leads/submit", b);
  ASSERT_EQ(rb.status, 201);
  auto bob_id = json::parse(rb.body)["lead_id"].get<std::string>();

  auto all = json::parse(get("/api/leads", {admin_h}).body);
  EXPECT_EQ(all["total"], 2);
  EXPECT_EQ(all["items"][0]["name"], "Bob Brown"); // newest first
  auto page = json::parse(get("/api/leads?limit=1&offset=1", {admin_h}).body);
  EXPECT_EQ(page["total"], 2);
  ASSERT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["items"][0]["name"], "Alice Anders");
  auto high = json::parse(get("/api/leads?min_score=50", {admin_h}).body);
  EXPECT_EQ(high["total"], 1);
  auto search = json::parse(get("/api/leads?search=WONDER", {admin_h}).body);
  ASSERT_EQ(search["total"], 1);
  EXPECT_EQ(search["items"][0]["name"], "Alice Anders");
  ASSERT_EQ(call("PATCH", "/api/leads/" + bob_id, R"({"status":"contacted","assigned_to":"eve"})",
                 {admin_h})
                .status,
            200);
  EXPECT_EQ(json::parse(get("/api/leads?status=contacted", {admin_h}).body)["total"], 1);
  EXPECT_EQ(json::parse(get("/api/leads?assigned_to=eve", {admin_h}).body)["total"], 1);
  EXPECT_EQ(json::parse(get("/api/leads?status=new", {admin_h}).body)["total"], 1);

  for (auto q : {"limit=0", "limit=101", "offset=-1", "limit=abc", "min_score=101", "status=won"}) {
    auto r = get(std::string{"/api/leads?"} + q, {admin_h});
    EXPECT_EQ(r.status, 422) << q;
    EXPECT_TRUE(json::parse(r.body)["detail"].is_array()) << q;
  }
}

TEST_F(LeadsTest, PatchUpdatesAppendsNotesAndMergesMetadata) {
  auto id = json::parse(post("/api/leads/submit", valid_lead()).body)["lead_id"].get<std::string>();
  auto r1 =
      call("PATCH", "/api/leads/" + id,
           R"({"status":"qualified","notes":"Called, wants a demo","metadata":{"a":1,"b":1}})",
           {admin_h});
  ASSERT_EQ(r1.status, 200) << r1.body;
  auto r2 =
      call("PATCH", "/api/leads/" + id, R"({"notes":"Demo booked","metadata":{"b":2}})", {admin_h});
  ASSERT_EQ(r2.status, 200) << r2.body;
  auto lead = json::parse(r2.body);
  EXPECT_EQ(lead["status"], "qualified");
  ASSERT_EQ(lead["notes"].size(), 2u);
  EXPECT_EQ(lead["notes"][0]["text"], "Called, wants a demo");
  EXPECT_EQ(lead["notes"][0]["author"], "admin-1");
  EXPECT_EQ(lead["notes"][1]["text"], "Demo booked");
  EXPECT_EQ(lead["notes"][1]["created_at"].get<std::string>().back(), 'Z');
  EXPECT_EQ(lead["metadata"], (json{{"a", 1}, {"b", 2}}));

  EXPECT_EQ(call("PATCH", "/api/leads/" + id, "{}", {admin_h}).status, 422);
  EXPECT_EQ(call("PATCH", "/api/leads/" + id, "", {admin_h}).status, 422);
  EXPECT_EQ(call("PATCH", "/api/leads/" + id, R"({"status":"won"})", {admin_h}).status, 422);
  EXPECT_EQ(call("PATCH", "/api/leads/" + id, "[]", {admin_h}).status, 400);
  EXPECT_EQ(call("PATCH", "/api/leads/00000000-0000-4000-8000-000000000000", R"({"status":"lost"})",
                 {admin_h})
                .status,
            404);
}

TEST_F(LeadsTest, AnalyzeRecomputesAndStores) {
  auto id = json::parse(post("/api/leads/submit",
                             [] {
                               auto b = valid_lead();
                               b["analyze"] = false;
                               return b;
                             }())
                            .body)["lead_id"]
                .get<std::string>();
  auto r = post("/api/leads/" + id + "/analyze", json::object(), {admin_h});
  ASSERT_EQ(r.status, 200) << r.body;
  auto a = json::parse(r.body);
  EXPECT_EQ(a["lead_score"]["score"], 86);
  EXPECT_EQ(a["method"], "rules");
  auto lead = json::parse(get("/api/leads/" + id, {admin_h}).body);
  EXPECT_EQ(lead["lead_score"], 86);
  EXPECT_EQ(lead["analysis"], a);
  EXPECT_EQ(
      call("POST", "/api/leads/00000000-0000-4000-8000-000000000000/analyze", "", {admin_h}).status,
      404);
}

TEST_F(LeadsTest, UnknownOrMalformedIdsAre404) {
  EXPECT_EQ(get("/api/leads/00000000-0000-4000-8000-000000000000", {admin_h}).status, 404);
  EXPECT_EQ(get("/api/leads/not-a-uuid", {admin_h}).status, 404);
  EXPECT_EQ(get("/api/leads/'%3B%20DROP%20TABLE%20leads", {admin_h}).status, 404);
}

TEST_F(LeadsTest, IdempotencyKeyReplaysAndDetectsReuse) {
  auto body = valid_lead();
  auto first = post("/api/leads/submit", body, {"Idempotency-Key: order-123"});
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = post("/api/leads/submit", body, {"Idempotency-Key: order-123"});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(json::parse(again.body), json::parse(first.body));
  EXPECT_EQ(json::parse(get("/api/leads", {admin_h}).body)["total"], 1);
  auto other = body;
  other["lead_data"]["name"] = "Somebody Else";
  auto conflict = post("/api/leads/submit", other, {"Idempotency-Key: order-123"});
  EXPECT_EQ(conflict.status, 409);
  EXPECT_TRUE(json::parse(conflict.body)["detail"].is_string());
  EXPECT_EQ(post("/api/leads/submit", other, {"Idempotency-Key: order-124"}).status, 201);
  EXPECT_EQ(json::parse(get("/api/leads", {admin_h}).body)["total"], 2);
  EXPECT_EQ(post("/api/leads/submit", body, {"Idempotency-Key: " + std::string(256, 'k')}).status,
            422);
}

TEST_F(LeadsTest, SignedInSubmitterBecomesOwner) {
  auto r = post("/api/leads/submit", valid_lead(), {bearer(user_token("owner-7"))});
  ASSERT_EQ(r.status, 201) << r.body;
}

} // namespace pixelcraft::test
