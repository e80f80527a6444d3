#include "actors/json_limits.hpp"
#include "persistence/detail.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace pixelcraft::persistence::detail {

namespace {

constexpr const char* replacement = "\xEF\xBF\xBD"; // U+FFFD

bool needs_cleaning(const std::string& s) {
  return s.find('\0') != std::string::npos || !valid_utf8(s);
}

/// Length of the well-formed UTF-8 sequence at `s[i]`, or 0 if there is none.
size_t sequence_length(const std::string& s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80                   ? 1
               : (c >= 0xC2 && c <= 0xDF) ? 2
               : (c >= 0xE0 && c <= 0xEF) ? 3
               : (c >= 0xF0 && c <= 0xF4) ? 4
                                          : 0;
  if (len == 0 || i + len > s.size())
    return 0;
  return valid_utf8(std::string_view{s}.substr(i, len)) ? len : 0;
}

} // namespace

std::string pg_text(std::string s) {
  if (!needs_cleaning(s))
    return s;
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    auto len = s[i] == '\0' ? 0 : sequence_length(s, i);
    if (len == 0) {
      out += replacement;
      ++i;
    } else {
      out.append(s, i, len);
      i += len;
    }
  }
  return out;
}

nlohmann::json pg_clean(nlohmann::json j) {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    if (needs_cleaning(s))
      s = pg_text(std::move(s));
  } else if (j.is_array()) {
    for (auto& x : j)
      x = pg_clean(std::move(x));
  } else if (j.is_object()) {
    bool dirty_keys = false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      dirty_keys = dirty_keys || needs_cleaning(it.key());
      it.value() = pg_clean(std::move(it.value()));
    }
    if (dirty_keys) {
      auto out = nlohmann::json::object();
      for (auto it = j.begin(); it != j.end(); ++it)
        out[pg_text(it.key())] = std::move(it.value());
      return out;
    }
  }
  return j;
}

std::string pg_json_text(const std::string& text) {
  auto j = parse_json(text, internal_depth);
  if (j.is_discarded())
    throw db_error{errc::invalid_argument, "malformed JSON argument"};
  return pg_clean(std::move(j)).dump();
}

std::string prepared_name(const std::string& sql) {
  static constexpr char hex[] = "0123456789abcdef";
  auto h = static_cast<uint64_t>(std::hash<std::string>{}(sql));
  std::string name = "px_0000000000000000";
  for (size_t i = name.size(); h != 0; h >>= 4)
    name[--i] = hex[h & 0xF];
  return name;
}

} // namespace pixelcraft::persistence::detail
