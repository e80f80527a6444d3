#include "actors/json_schema.hpp"

#include "actors/json_limits.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <optional>

namespace pixelcraft {

namespace {

using json = nlohmann::json;

bool has_type(const json& v, const std::string& t) {
  if (t == "string")
    return v.is_string();
  if (t == "integer")
    return v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                     std::trunc(v.get<double>()) == v.get<double>());
  if (t == "number")
    return v.is_number();
  if (t == "boolean")
    return v.is_boolean();
  if (t == "array")
    return v.is_array();
  if (t == "object")
    return v.is_object();
  if (t == "null")
    return v.is_null();
  return true;
}

/// A non-negative count keyword (minLength, maxItems, ...); absent or mistyped means "no limit".
/// Schemas come from agent definitions an admin wrote, but a mistyped one never throws.
std::optional<size_t> count_keyword(const json& schema, const char* key) {
  auto it = schema.find(key);
  if (it == schema.end() || !it->is_number() || !(it->get<double>() >= 0))
    return std::nullopt;
  if (it->is_number_unsigned())
    return it->get<size_t>();
  auto d = it->get<double>();
  return d >= 1.8e19 ? SIZE_MAX : static_cast<size_t>(d);
}

void check(const json& schema, const json& v, const std::string& path,
           std::vector<std::string>& errors) {
  if (!schema.is_object())
    return;
  if (schema.contains("type")) {
    const auto& t = schema["type"];
    bool ok = false;
    if (t.is_string())
      ok = has_type(v, t.get<std::string>());
    else if (t.is_array())
      for (const auto& x : t)
        ok = ok || (x.is_string() && has_type(v, x.get<std::string>()));
    else
      ok = true;
    if (!ok) {
      errors.push_back(path + ": expected " + t.dump());
      return;
    }
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const auto& x : schema["enum"])
      found = found || x == v;
    if (!found)
      errors.push_back(path + ": must be one of " + schema["enum"].dump());
  }
  if (v.is_number()) {
    auto x = v.get<double>();
    if (schema.contains("minimum") && schema["minimum"].is_number() &&
        x < schema["minimum"].get<double>())
      errors.push_back(path + ": must be >= " + schema["minimum"].dump());
    if (schema.contains("maximum") && schema["maximum"].is_number() &&
        x > schema["maximum"].get<double>())
      errors.push_back(path + ": must be <= " + schema["maximum"].dump());
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    size_t len = 0;
    for (unsigned char c : s)
      len += (c & 0xC0) != 0x80;
    if (auto n = count_keyword(schema, "minLength"); n && len < *n)
      errors.push_back(path + ": too short");
    if (auto n = count_keyword(schema, "maxLength"); n && len > *n)
      errors.push_back(path + ": too long");
    auto format = string_or(schema, "format");
    if (format == "email" && !email_like(s))
      errors.push_back(path + ": not an email address");
    if (format == "date-time" && !is_rfc3339(s))
      errors.push_back(path + ": not an RFC 3339 date-time");
  }
  if (v.is_array()) {
    if (auto n = count_keyword(schema, "minItems"); n && v.size() < *n)
      errors.push_back(path + ": too few items");
    if (auto n = count_keyword(schema, "maxItems"); n && v.size() > *n)
      errors.push_back(path + ": too many items");
    if (schema.contains("items"))
      for (size_t i = 0; i < v.size(); ++i)
        check(schema["items"], v[i], path + "[" + std::to_string(i) + "]", errors);
  }
  if (v.is_object()) {
    auto found = schema.find("properties");
    const json props = found != schema.end() && found->is_object() ? *found : json::object();
    if (schema.contains("required") && schema["required"].is_array())
      for (const auto& r : schema["required"])
        if (r.is_string() && !v.contains(r.get<std::string>()))
          errors.push_back(path + "." + r.get<std::string>() + ": required");
    for (auto& [k, x] : v.items()) {
      if (props.contains(k))
        check(props[k], x, path + "." + k, errors);
      else if (schema.contains("additionalProperties") && schema["additionalProperties"] == false)
        errors.push_back(path + "." + k + ": not allowed");
    }
  }
}

bool digits(const std::string& s, size_t at, size_t n) {
  if (at + n > s.size())
    return false;
  for (size_t i = at; i < at + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

} // namespace

bool email_like(const std::string& s) {
  auto at = s.find('@');
  return at != std::string::npos && at > 0 && s.find('@', at + 1) == std::string::npos &&
         s.find('.', at) != std::string::npos && s.back() != '.' &&
         s.find_first_of(" \t\r\n<>,;") == std::string::npos && s.size() <= 254;
}

bool is_rfc3339(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (!digits(s, 0, 4) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2) || s[13] != ':' ||
      !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2))
    return false;
  auto month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
  auto hour = std::stoi(s.substr(11, 2)), minute = std::stoi(s.substr(14, 2)),
       second = std::stoi(s.substr(17, 2));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return false;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    if (i == start)
      return false;
  }
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z'))
    return i + 1 == s.size();
  return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits(s, i + 1, 2) &&
         s[i + 3] == ':' && digits(s, i + 4, 2);
}

std::vector<std::string> validate_json(const std::string& schema, const std::string& value) {
  std::vector<std::string> errors;
  auto s = parse_json(schema);
  auto v = parse_json(value);
  if (s.is_discarded())
    errors.push_back("$: the schema is not valid JSON");
  else if (v.is_discarded())
    errors.push_back("$: not valid JSON");
  else
    check(s, v, "$", errors);
  return errors;
}

} // namespace pixelcraft
