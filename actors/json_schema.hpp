#pragma once
/// A JSON-schema subset validator for tool arguments (the schemas in agents.json): `type`
/// (one or a list), `properties`, `required`, `additionalProperties: false`, `enum`,
/// `minimum`/`maximum`, `minLength`/`maxLength`, `items`, `minItems`/`maxItems`, and `format`
/// `email` and `date-time`. Keywords outside the subset are ignored. Pure, no I/O.

#include <string>
#include <vector>

namespace pixelcraft {

/// Validates the JSON text `value` against the JSON text `schema`. Returns one message per
/// violation (`"$.field: message"`); empty when valid. Unparsable input is a violation.
std::vector<std::string> validate_json(const std::string& schema, const std::string& value);

/// RFC 3339 date-time (`2026-11-24T10:00:00Z`, `...+01:00`, fractional seconds allowed).
bool is_rfc3339(const std::string& s);

/// What `format: email` accepts: one `@`, a dot after it, no spaces or separators, at most
/// 254 bytes.
bool email_like(const std::string& s);

} // namespace pixelcraft
