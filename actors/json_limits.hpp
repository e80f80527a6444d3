#pragma once
/// Bounded JSON parsing: the only way JSON text enters a `nlohmann::json` in PixelCraft.
///
/// `json::parse` recurses while building, `dump()`, comparisons and our own walks recurse over
/// the result, and a 200 KB body nested 100,000 deep exhausts the stack (API.md §1, v1.1). The
/// parser here is nlohmann's SAX parser (an explicit stack, no recursion) feeding a DOM builder
/// that refuses to open a container deeper than the limit, so a too-deep document is rejected
/// while it is read, before anything recursive touches it. It never throws.
///
/// Limits: `client_depth` (32) for everything a client sends (HTTP bodies, WebSocket frames);
/// `internal_depth` (128) for text we produced ourselves or a vendor/model sent (stored jsonb read
/// back, actor payloads, vendor responses), which may wrap client values a few levels deeper.
///
/// Header-only by design: it needs nlohmann's headers, which each module already links privately.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pixelcraft {

inline constexpr std::size_t client_depth = 32;
inline constexpr std::size_t internal_depth = 128;

/// Why a parse failed.
enum class json_error { none, syntax, too_deep };

namespace detail {

/// nlohmann's DOM builder with a depth fence. Returning false from a SAX event stops the parse.
class bounded_dom final : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
public:
  using base = nlohmann::detail::json_sax_dom_parser<nlohmann::json>;
  bounded_dom(nlohmann::json& out, std::size_t max_depth) : base(out, false), max_(max_depth) {}
  bool start_object(std::size_t n) {
    if (++depth_ > max_) {
      too_deep = true;
      return false;
    }
    return base::start_object(n);
  }
  bool end_object() {
    --depth_;
    return base::end_object();
  }
  bool start_array(std::size_t n) {
    if (++depth_ > max_) {
      too_deep = true;
      return false;
    }
    return base::start_array(n);
  }
  bool end_array() {
    --depth_;
    return base::end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }
  bool too_deep = false;

private:
  std::size_t depth_ = 0;
  std::size_t max_;
};

} // namespace detail

/// Parses `text` as one JSON document (nothing but whitespace may follow it; a NUL byte is not
/// whitespace). On failure returns a discarded value (`is_discarded()`) and sets `*err`.
/// Invalid UTF-8 inside strings and raw control characters are syntax errors (nlohmann's lexer).
inline nlohmann::json parse_json(std::string_view text, std::size_t max_depth = internal_depth,
                                 json_error* err = nullptr) {
  nlohmann::json out;
  detail::bounded_dom dom(out, max_depth);
  bool ok = false;
  // nlohmann's lexer takes a raw NUL byte for the end of input, so `{}` followed by NUL and
  // garbage would be accepted. A NUL is never valid JSON text (inside strings it must be
  // escaped), so refuse it up front.
  if (text.find('\0') != std::string_view::npos) {
    if (err)
      *err = json_error::syntax;
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  try {
    ok = nlohmann::json::sax_parse(text.begin(), text.end(), &dom,
                                   nlohmann::json::input_format_t::json, true);
  } catch (...) {
    ok = false;
  }
  if (!ok || dom.is_errored()) {
    if (err)
      *err = dom.too_deep ? json_error::too_deep : json_error::syntax;
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  if (err)
    *err = json_error::none;
  return out;
}

/// Like `parse_json`, for text the runtime produced itself (actor payloads, stored rows): a
/// failure there is a bug or corruption, reported as an exception the caller already handles
/// (`nlohmann::json::exception`), as `json::parse` did.
inline nlohmann::json parse_json_or_throw(std::string_view text,
                                          std::size_t max_depth = internal_depth) {
  json_error e = json_error::none;
  auto j = parse_json(text, max_depth, &e);
  if (e != json_error::none)
    throw nlohmann::json::parse_error::create(101, 0,
                                              e == json_error::too_deep
                                                  ? "JSON nested deeper than " +
                                                        std::to_string(max_depth) + " levels"
                                                  : "invalid JSON",
                                              nullptr);
  return j;
}

/// Appends to `out` the location (keys and indices below `prefix`) of every string value or
/// object key in `j` that contains a NUL character (`\u0000`): PostgreSQL's jsonb and text
/// cannot store one, so API.md §1 makes it a 422 for that field. Recursion is bounded by the
/// depth limit the document was parsed with.
inline void find_nul_strings(const nlohmann::json& j, const nlohmann::json& prefix,
                             nlohmann::json& out, std::size_t max_out = 20) {
  if (out.size() >= max_out)
    return;
  if (j.is_string()) {
    if (j.get_ref<const std::string&>().find('\0') != std::string::npos)
      out.push_back(prefix);
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end() && out.size() < max_out; ++it) {
      auto loc = prefix;
      loc.push_back(it.key());
      if (it.key().find('\0') != std::string::npos)
        out.push_back(loc);
      else
        find_nul_strings(it.value(), loc, out, max_out);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size() && out.size() < max_out; ++i) {
      auto loc = prefix;
      loc.push_back(i);
      find_nul_strings(j[i], loc, out, max_out);
    }
  }
}

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
inline bool valid_utf8(std::string_view s) {
  std::size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n)
      return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += len;
  }
  return true;
}

/// `obj[key]` when `obj` is an object holding a string there, else `fallback`: for JSON that
/// clients, models or agent definitions wrote, where a mistyped field means "not given".
inline std::string string_or(const nlohmann::json& obj, const char* key,
                             const std::string& fallback = {}) {
  if (!obj.is_object())
    return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

/// The strings of the array `obj[key]` (other elements skipped), or none when it is not an
/// array: for lists like a lead's `services_interested`.
inline std::vector<std::string> strings_or_none(const nlohmann::json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object())
    return out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array())
    return out;
  for (const auto& x : *it)
    if (x.is_string())
      out.push_back(x.get<std::string>());
  return out;
}

/// Largest compact JSON size of a free-form object that is handed to agents and models
/// (chat `context`, invoke `input_data`, workflow `input_data`/`metadata`, agent message
/// `content`/`metadata`, lead `metadata`): checked before anything copies or prints it.
inline constexpr std::size_t max_free_json_bytes = 64 * 1024;

/// Compact serialised size of `j` (as `j.dump()`), counting no further than `limit + 1`, so a
/// huge value costs at most `limit` steps. Recursion is bounded by the parse depth of `j`.
inline std::size_t json_size_capped(const nlohmann::json& j, std::size_t limit) {
  auto string_size = [](const std::string& s) {
    std::size_t n = 2;
    for (unsigned char c : s) {
      if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
        n += 2;
      else if (c < 0x20)
        n += 6;
      else
        n += 1;
    }
    return n;
  };
  switch (j.type()) {
  case nlohmann::json::value_t::string:
    return std::min(limit + 1, string_size(j.get_ref<const std::string&>()));
  case nlohmann::json::value_t::object: {
    std::size_t n = 2 + (j.empty() ? 0 : j.size() - 1);
    for (auto it = j.begin(); it != j.end() && n <= limit; ++it)
      n += string_size(it.key()) + 1 + json_size_capped(it.value(), limit - std::min(n, limit));
    return std::min(limit + 1, n);
  }
  case nlohmann::json::value_t::array: {
    std::size_t n = 2 + (j.empty() ? 0 : j.size() - 1);
    for (auto it = j.begin(); it != j.end() && n <= limit; ++it)
      n += json_size_capped(*it, limit - std::min(n, limit));
    return std::min(limit + 1, n);
  }
  default:
    return std::min(limit + 1, j.dump().size()); // a scalar: a few bytes
  }
}

} // namespace pixelcraft
