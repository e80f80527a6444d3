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
  for (auto want : {R"(["body","analyze"])", R"(["body","lead_data","name"])",
                    R"(["body","lead_data","email"])", R"(["body","lead_data","phone"])",
                    R"(["body","lead_data","message"])",
                    R"(["body","lead_data","services_interested",1])",
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
  ASSERT_TRUE(validate_lead_patch(
    {{"status", "qualified"}, {"assigned_to", nullptr}, {"notes", "Called"}, {"metadata", {{"a", 1}}}},
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
