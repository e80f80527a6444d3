#include "http/router.hpp"

#include <algorithm>

namespace pixelcraft::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  size_t start = 1;
  if (path.empty() || path == "/")
    return out;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos)
      slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool is_param(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size())
        return false;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    auto amp = query.find('&', start);
    if (amp == std::string_view::npos)
      amp = query.size();
    auto part = query.substr(start, amp - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      auto k = part.substr(0, eq);
      auto v = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
      std::string dk, dv;
      if (!percent_decode(k, dk, true))
        dk = std::string{k};
      if (!percent_decode(v, dv, true))
        dv = std::string{v};
      out.emplace_back(std::move(dk), std::move(dv));
    }
    start = amp + 1;
  }
  return out;
}

size_t router::add(std::string method, std::string pattern) {
  entry e;
  e.method = std::move(method);
  for (auto seg : split_path(pattern))
    e.segments.emplace_back(seg);
  e.pattern = std::move(pattern);
  entries_.push_back(std::move(e));
  return entries_.size() - 1;
}

router::match_result router::match(std::string_view method, std::string_view path) const {
  match_result r;
  auto segs = split_path(path);
  // Specificity: a vector of 1 (literal) / 0 (param) per segment, compared lexicographically.
  std::vector<int> best_score;
  const std::string* best_pattern = nullptr;
  for (const auto& e : entries_) {
    if (e.segments.size() != segs.size())
      continue;
    std::vector<int> score;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (is_param(e.segments[i])) {
        ok = !segs[i].empty();
        score.push_back(0);
      } else {
        ok = e.segments[i] == segs[i];
        score.push_back(1);
      }
    }
    if (ok && (!best_pattern || score > best_score)) {
      best_score = std::move(score);
      best_pattern = &e.pattern;
    }
  }
  if (!best_pattern)
    return r;
  r.pattern = *best_pattern;
  // HEAD is GET without the body (API.md §15), unless a pattern has its own HEAD.
  bool head_as_get =
      method == "HEAD" && std::none_of(entries_.begin(), entries_.end(), [&](const entry& e) {
        return e.pattern == *best_pattern && e.method == "HEAD";
      });
  for (size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    if (e.pattern != *best_pattern)
      continue;
    if (e.method == method || (head_as_get && e.method == "GET")) {
      r.kind = match_result::found;
      r.index = i;
      for (size_t k = 0; k < segs.size(); ++k)
        if (is_param(e.segments[k])) {
          std::string decoded;
          if (!percent_decode(segs[k], decoded))
            decoded = std::string{segs[k]};
          r.params[e.segments[k].substr(1, e.segments[k].size() - 2)] = std::move(decoded);
        }
      r.allowed.clear();
      return r;
    }
    r.allowed.push_back(e.method);
    if (e.method == "GET")
      r.allowed.push_back("HEAD");
  }
  std::sort(r.allowed.begin(), r.allowed.end());
  r.allowed.erase(std::unique(r.allowed.begin(), r.allowed.end()), r.allowed.end());
  r.kind = match_result::method_not_allowed;
  return r;
}

std::vector<std::string> router::methods_for(std::string_view path) const {
  auto m = match("\x01", path); // no real method: collects the best pattern's methods
  return m.allowed;
}

} // namespace pixelcraft::http
