#pragma once
/// Request validation (API.md §1, §6): collects *every* failing field as a 422 entry
/// `{"loc": [...], "msg": "...", "type": "..."}`. Pure functions, no I/O.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/lead_scoring.hpp"

namespace pixelcraft::http {

class validator {
public:
  void add(nlohmann::json loc, std::string msg, std::string type) {
    errors_.push_back({{"loc", std::move(loc)}, {"msg", std::move(msg)}, {"type", std::move(type)}});
  }
  bool ok() const { return errors_.empty(); }
  const nlohmann::json& detail() const { return errors_; }

private:
  nlohmann::json errors_ = nlohmann::json::array();
};

/// Number of Unicode code points in valid UTF-8.
size_t utf8_length(std::string_view s);
/// C0/C1 control characters (and DEL); `\n`, `\r`, `\t` pass when `allow_whitespace`.
bool has_control_chars(std::string_view s, bool allow_whitespace);
bool is_valid_email(std::string_view s);
/// `^\+?[0-9 ()\-.]{3,40}$`
bool is_valid_phone(std::string_view s);
/// 8-4-4-4-12 hex digits.
bool is_uuid(std::string_view s);
std::string trim(std::string_view s);

/// A validated `LeadRequest`.
struct lead_submission {
  nlohmann::json row;   ///< the lead's columns for `lead_new_atom` (no owner or analysis yet)
  lead_signals signals; ///< scoring inputs
  bool analyze = true;
};

/// Validates a `LeadRequest` body (an object). Returns false with errors in `v`.
bool validate_lead_request(const nlohmann::json& body, validator& v, lead_submission& out);

/// Validates a lead PATCH body into the `lead_upd_atom` patch. At least one known field.
bool validate_lead_patch(const nlohmann::json& body, validator& v, nlohmann::json& patch);

/// Reads an integer query parameter (absent: `def`); out of [lo, hi] or not an integer adds a
/// 422 entry at `["query", name]`.
long long query_int(const std::string* raw, const char* name, long long def, long long lo,
                    long long hi, validator& v);

/// Reads `limit` (1..100, default 50) and `offset` (>= 0, default 0) into `args` (API.md §1);
/// out-of-range values add 422 entries to `v`.
void read_page(const std::string* limit, const std::string* offset, validator& v,
               nlohmann::json& args);

/// Scoring inputs of a stored `Lead` JSON.
lead_signals signals_of_lead(const nlohmann::json& lead);

} // namespace pixelcraft::http
