// The vendor tools' request shapes and steps (integrations/vendor_tools.hpp), against a scripted
// vendor: no actors, no network. The wire itself is covered by the server tests' fake vendors.
#include "integrations/vendor_tools.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <optional>
#include <vector>

using namespace pixelcraft;
using namespace pixelcraft::integrations;
using nlohmann::json;

namespace {

/// Answers each request with the next scripted reply and records the requests.
struct scripted_vendor {
  std::deque<http_reply> replies;
  std::vector<http_request> seen;

  http_fn fn() {
    return [this](http_request req, std::function<void(http_reply)> next) {
      seen.push_back(std::move(req));
      ASSERT_FALSE(replies.empty()) << "unexpected request " << seen.back().path;
      auto r = replies.front();
      replies.pop_front();
      next(r);
    };
  }
};

std::optional<vendor_outcome> run(scripted_vendor& v, const std::string& tool, const json& args) {
  std::optional<vendor_outcome> out;
  tool_vendor_settings cfg{"team@example.com", "hello@pixelcraft.example",
                           "sales@pixelcraft.example"};
  EXPECT_TRUE(run_vendor_tool({tool, args.dump(), "exec-1"}, cfg, v.fn(),
                              [&out](vendor_outcome o) { out = std::move(o); }));
  return out;
}

} // namespace

TEST(VendorToolsTest, ADuplicateContactIsFoundUpdatedAndGetsItsDeal) {
  scripted_vendor v;
  v.replies = {{409, {{"message", "Contact already exists"}}, 1},
               {200, {{"results", {{{"id", "c-7"}}}}}, 1},
               {200, {{"id", "c-7"}}, 1},
               {201, {{"id", "d-9"}}, 1}};
  auto out = run(v, "create_project_lead",
                 {{"email", "ada@example.com"}, {"name", "Ada Lovelace"}, {"company", "Engines"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, "success");
  auto result = json::parse(out->result);
  EXPECT_EQ(result["contact_id"], "c-7");
  EXPECT_EQ(result["contact_action"], "updated");
  EXPECT_EQ(result["deal_id"], "d-9");
  ASSERT_EQ(v.seen.size(), 4u);
  EXPECT_EQ(v.seen[0].path, "/crm/v3/objects/contacts");
  EXPECT_EQ(json::parse(v.seen[0].body)["properties"]["lastname"], "Lovelace");
  EXPECT_EQ(v.seen[1].path, "/crm/v3/objects/contacts/search");
  EXPECT_EQ(v.seen[2].method, "PATCH");
  EXPECT_EQ(v.seen[2].path, "/crm/v3/objects/contacts/c-7");
  auto deal = json::parse(v.seen[3].body);
  EXPECT_EQ(deal["properties"]["dealname"], "Engines - web project");
  EXPECT_EQ(deal["associations"][0]["to"]["id"], "c-7");
  // Keys follow the call, so a resent call cannot act twice where the vendor dedupes.
  EXPECT_EQ(v.seen[0].idempotency_key, "exec-1:POST:/crm/v3/objects/contacts");
  EXPECT_EQ(v.seen[0].service, "hubspot");
}

TEST(VendorToolsTest, ARefusalIsAnErrorOutcomeNamingTheVendorsReason) {
  scripted_vendor v;
  v.replies = {{400, {{"errors", {{{"message", "invalid email"}}}}}, 1}};
  auto out = run(v, "send_marketing_proposal",
                 {{"to_email", "ada@example.com"}, {"proposal_summary", "A new shop"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, "error");
  EXPECT_EQ(out->error, "email not sent");
  EXPECT_EQ(json::parse(out->result)["error"],
            "SendGrid refused the email: HTTP 400 invalid email");
  auto mail = json::parse(v.seen.at(0).body);
  EXPECT_EQ(mail["from"]["email"], "hello@pixelcraft.example");
  EXPECT_EQ(mail["personalizations"][0]["to"][0]["email"], "ada@example.com");
  EXPECT_EQ(mail["custom_args"]["pixelcraft_execution_id"], "exec-1");
}

TEST(VendorToolsTest, ABusySlotIsNotBookedAndABookingReadsBackItsOwnEarlierEvent) {
  scripted_vendor busy;
  busy.replies = {
      {200, {{"calendars", {{"team@example.com", {{"busy", {{{"start", "x"}}}}}}}}}, 1}};
  auto out = run(busy, "schedule_qualification_call",
                 {{"attendee_email", "ada@example.com"}, {"start_time", "2027-01-05T10:00:00Z"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(json::parse(out->result)["error"], "slot_unavailable");
  EXPECT_EQ(busy.seen.size(), 1u);

  scripted_vendor again;
  again.replies = {{200, {{"calendars", json::object()}}, 1},
                   {409, json(nullptr), 1},
                   {200, {{"id", "pceec1"}, {"htmlLink", "https://cal/e"}}, 1}};
  out = run(again, "schedule_strategy_session",
            {{"attendee_email", "ada@example.com"}, {"start_time", "2027-01-05T11:00:00+01:00"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, "success");
  auto result = json::parse(out->result);
  EXPECT_EQ(result["start"], "2027-01-05T10:00:00Z");
  EXPECT_EQ(result["end"], "2027-01-05T10:45:00Z");           // a strategy session: 45 minutes
  EXPECT_EQ(json::parse(again.seen[1].body)["id"], "pceec1"); // "pc" + the hex digits of "exec-1"
  EXPECT_EQ(again.seen[2].method, "GET");
  EXPECT_EQ(again.seen[2].path, "/calendar/v3/calendars/team%40example.com/events/pceec1");
}

TEST(VendorToolsTest, OnlyVendorToolsRun) {
  scripted_vendor v;
  EXPECT_FALSE(run_vendor_tool({"remember", "{}", "exec-1"}, {}, v.fn(),
                               [](vendor_outcome) { ADD_FAILURE() << "answered"; }));
  EXPECT_TRUE(v.seen.empty());
}

TEST(VendorToolsTest, WholeNumbersWrittenAsFloatsCountAsIntegers) {
  // The schema accepts 60.0 as an integer; the tool must read it as 60, not as absent.
  scripted_vendor v;
  v.replies = {{200, {{"calendars", json::object()}}, 1}, {200, {{"id", "pceec1"}}, 1}};
  auto out = run(v, "schedule_technical_consultation",
                 {{"attendee_email", "ada@example.com"},
                  {"start_time", "2027-01-05T10:00:00Z"},
                  {"duration_minutes", 60.0}});
  ASSERT_TRUE(out);
  EXPECT_EQ(json::parse(out->result)["end"], "2027-01-05T11:00:00Z");
  EXPECT_EQ(json::parse(v.seen.at(0).body)["timeMax"], "2027-01-05T11:00:00Z");
}

TEST(VendorToolsTest, AVendorsOddErrorBodyNeverThrows) {
  scripted_vendor v;
  v.replies = {{400, {{"errors", {{{"message", 1}}}}}, 1}};
  auto out = run(v, "send_marketing_proposal",
                 {{"to_email", "ada@example.com"}, {"proposal_summary", "A new shop"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(json::parse(out->result)["error"], "SendGrid refused the email: HTTP 400 ");
  EXPECT_TRUE(is_vendor_tool("cancel_meeting"));
  EXPECT_FALSE(is_vendor_tool("remember"));
}
