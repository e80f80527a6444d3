// libFuzzer target: the request validators of http/validation.cpp, fed as the routes feed them
// (a body read with the client depth limit, refused with a NUL anywhere). The first byte picks
// the validator; the rest is the body (or the raw query value / field text).
//
// Checked beyond "no crash": an accepted lead or patch holds no NUL and serialises as JSON
// (PostgreSQL stores neither a NUL nor invalid UTF-8), and every 422 detail serialises.
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/json_limits.hpp"
#include "http/validation.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

using nlohmann::json;
namespace h = pixelcraft::http;

void storable_or_trap(const json& j) {
  json nul = json::array();
  pixelcraft::find_nul_strings(j, json::array(), nul);
  if (!nul.empty())
    __builtin_trap();
  (void)j.dump(); // throws on invalid UTF-8: an uncaught exception is a finding
}

/// A body as the routes read it: one JSON object within the client depth, no NUL in strings.
bool read_body(std::string_view text, json& body) {
  body = pixelcraft::parse_json(text, pixelcraft::client_depth);
  if (!body.is_object())
    return false;
  json nul = json::array();
  pixelcraft::find_nul_strings(body, json::array(), nul);
  return nul.empty();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  h::validator v;
  json body;
  switch (data[0] % 5) {
    case 0: { // POST /api/leads
      if (!read_body(rest, body))
        return 0;
      h::lead_submission out;
      if (h::validate_lead_request(body, v, out)) {
        storable_or_trap(out.row);
        (void)h::signals_of_lead(out.row);
      }
      break;
    }
    case 1: { // PATCH /api/leads/{id}
      if (!read_body(rest, body))
        return 0;
      json patch;
      if (h::validate_lead_patch(body, v, patch))
        storable_or_trap(patch);
      break;
    }
    case 2: { // ?limit=&offset= and other integer query parameters
      auto p = pixelcraft::fuzz::split_parts(data + 1, size - 1, 2);
      json args;
      h::read_page(&p[0], &p[1], v, args);
      (void)h::query_int(&p[0], "days", 30, -5, 365, v);
      break;
    }
    case 3: { // field checks on raw text
      std::string s{rest};
      (void)h::utf8_length(s);
      (void)h::has_control_chars(s, true);
      (void)h::has_control_chars(s, false);
      (void)h::is_valid_email(s);
      (void)h::is_valid_phone(s);
      (void)h::is_uuid(s);
      auto t = h::trim(s);
      if (t.size() > s.size())
        __builtin_trap();
      break;
    }
    case 4: { // a stored lead read back (jsonb) for scoring
      auto lead = pixelcraft::parse_json(rest, pixelcraft::internal_depth);
      if (!lead.is_discarded())
        (void)h::signals_of_lead(lead);
      break;
    }
  }
  (void)v.detail().dump(-1, ' ', false, json::error_handler_t::replace);
  return 0;
}
