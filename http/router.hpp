#pragma once
/// Path routing without RESTinio: patterns such as `/api/leads/{lead_id}`.
///
/// The most specific pattern matching a path wins (segment by segment, a literal beats a
/// parameter), so `/api/agents/health` wins over `/api/agents/{agent_type}`. A path whose best
/// pattern lacks the method is a 405 with that pattern's methods; no pattern is a 404.
/// `HEAD` finds a pattern's `GET` (the server then sends the headers only), and every pattern
/// with `GET` lists `HEAD` among its methods.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pixelcraft::http {

class router {
public:
  /// Adds `method pattern` and returns its index (order of registration).
  size_t add(std::string method, std::string pattern);

  struct match_result {
    enum kind_t { found, method_not_allowed, not_found } kind = not_found;
    size_t index = 0;                          ///< with `found`
    std::string pattern;                       ///< with `found` or `method_not_allowed`
    std::map<std::string, std::string> params; ///< percent-decoded
    std::vector<std::string> allowed;          ///< with `method_not_allowed`, sorted
  };

  /// `path` without query string; a trailing slash is ignored.
  match_result match(std::string_view method, std::string_view path) const;

  /// Every (method, pattern) registered, in order.
  std::vector<std::pair<std::string, std::string>> all() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : entries_)
      out.emplace_back(e.method, e.pattern);
    return out;
  }

  /// Every method registered for the best pattern matching `path` (empty: unknown path).
  std::vector<std::string> methods_for(std::string_view path) const;

private:
  struct entry {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments; ///< `{name}` marks a parameter
  };
  std::vector<entry> entries_;
};

/// Decodes %XX (and `+` as space when `plus_is_space`); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space = false);

/// Splits `a=1&b=2` into decoded pairs; malformed escapes are kept verbatim.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

} // namespace pixelcraft::http
