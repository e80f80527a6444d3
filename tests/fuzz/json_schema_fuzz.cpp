// libFuzzer target: tool-argument schema checks (actors/json_schema.cpp). Input: `schema\0value`;
// the value is also checked against the real tool schemas of agents.json-like shapes below.
#include "actors/json_schema.hpp"
#include "tests/fuzz/fuzz_util.hpp"

#include <string>

namespace {

// Shapes the catalogue's tools use (agents.json): the fuzzer's value meets real schemas too.
const char* const fixed_schema = R"({"type":"object","additionalProperties":false,
  "required":["email","when"],"properties":{
  "email":{"type":"string","format":"email","maxLength":254},
  "when":{"type":"string","format":"date-time"},
  "count":{"type":["integer","null"],"minimum":0,"maximum":100},
  "tags":{"type":"array","items":{"type":"string","enum":["a","b"]},"minItems":1,"maxItems":5},
  "score":{"type":"number","minimum":-1.5,"maximum":1e300},
  "name":{"type":"string","minLength":1,"maxLength":10}}})";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = pixelcraft::fuzz::split_parts(data, size, 2);
  (void)pixelcraft::validate_json(p[0], p[1]);
  (void)pixelcraft::validate_json(fixed_schema, p[1]);
  (void)pixelcraft::is_rfc3339(p[1]);
  return 0;
}
