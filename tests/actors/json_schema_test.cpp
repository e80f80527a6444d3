#include "actors/json_schema.hpp"

#include <gtest/gtest.h>

using namespace pixelcraft;

namespace {

const std::string schema = R"({"type": "object", "properties": {
  "attendee_email": {"type": "string", "format": "email"},
  "start_time": {"type": "string", "format": "date-time"},
  "duration_minutes": {"type": "integer", "minimum": 15, "maximum": 120},
  "kind": {"type": "string", "enum": ["a", "b"]},
  "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 2},
  "amount": {"type": ["number", "null"]}},
  "required": ["attendee_email", "start_time"], "additionalProperties": false})";

} // namespace

TEST(JsonSchemaTest, ValidArgumentsPass) {
  EXPECT_TRUE(validate_json(schema, R"({"attendee_email": "a@b.co",
    "start_time": "2026-12-01T10:00:00Z", "duration_minutes": 45, "kind": "a",
    "tags": ["x", "yz"], "amount": null})")
                  .empty());
  EXPECT_TRUE(validate_json(schema, R"({"attendee_email": "a@b.co",
    "start_time": "2026-12-01T10:00:00.5+01:00", "duration_minutes": 30.0})")
                  .empty());
}

TEST(JsonSchemaTest, EveryViolationIsReported) {
  auto errors = validate_json(schema, R"({"attendee_email": "nope",
    "start_time": "tomorrow at ten", "duration_minutes": 500, "kind": "c",
    "tags": ["long", "x", "y"], "amount": "lots", "extra": 1})");
  EXPECT_EQ(errors.size(), 8u);
  auto missing = validate_json(schema, R"({})");
  EXPECT_EQ(missing.size(), 2u);
  EXPECT_EQ(validate_json(schema, "[1]").size(), 1u);
  EXPECT_EQ(validate_json(schema, "{not json").size(), 1u);
  EXPECT_EQ(validate_json(schema, R"({"attendee_email": "a@b.co", "start_time":
    "2026-12-01T10:00:00Z", "duration_minutes": 2.5})")
                .size(),
            1u);
}

TEST(JsonSchemaTest, DateTimes) {
  EXPECT_TRUE(is_rfc3339("2026-11-24T10:00:00Z"));
  EXPECT_TRUE(is_rfc3339("2026-11-24T10:00:00.123-05:30"));
  EXPECT_FALSE(is_rfc3339("2026-11-24 10:00:00Z"));
  EXPECT_FALSE(is_rfc3339("2026-13-24T10:00:00Z"));
  EXPECT_FALSE(is_rfc3339("2026-11-24T10:00:00"));
  EXPECT_FALSE(is_rfc3339("2026-11-24T10:00:00Zjunk"));
}

// Fuzz regressions (tests/fuzz/corpus/json_schema_fuzz/regress-*): a mistyped schema keyword is
// no limit, and a float too large for any integer type is not an integer; nothing throws.
TEST(JsonSchemaTest, MistypedKeywordsAndHugeNumbersNeverThrow) {
  EXPECT_TRUE(validate_json(R"({"minLength":"x","maxItems":-1})", R"("abc")").empty());
  EXPECT_TRUE(validate_json(R"({"format":1,"properties":[1]})", R"({"a":"b"})").empty());
  EXPECT_EQ(validate_json(R"({"type":"integer"})", "1e300").size(), 0u); // integral value
  EXPECT_EQ(validate_json(R"({"type":"integer"})", "1.5").size(), 1u);
  EXPECT_EQ(validate_json(R"({"minItems":1e30})", "[1]").size(), 1u);
  EXPECT_EQ(validate_json(R"({"maxLength":2.0})", R"("abc")").size(), 1u);
}
