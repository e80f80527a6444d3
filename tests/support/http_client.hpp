#pragma once
/// A small blocking HTTP client (libcurl) for whole-server tests over loopback.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace pixelcraft::test {

struct http_result {
  long status = 0; ///< 0 when the transfer failed
  std::string body;
  std::map<std::string, std::string> headers; ///< lower-case names, last value wins
  std::string error;                          ///< curl's message when status is 0
  std::string header(const std::string& lower_name) const {
    auto i = headers.find(lower_name);
    return i == headers.end() ? "" : i->second;
  }
};

/// A streamed response: each piece of body as it arrived, with its arrival time.
struct stream_result {
  long status = 0;
  std::map<std::string, std::string> headers;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> pieces;
  std::string body() const {
    std::string b;
    for (auto& p : pieces)
      b += p.second;
    return b;
  }
};

/// Reads a streamed response; `keep_going(body so far)` returning false hangs up at once.
stream_result http_stream(const std::string& url, const std::string& body,
                          const std::vector<std::string>& headers,
                          std::function<bool(const std::string&)> keep_going = {},
                          long timeout_ms = 60000);

http_result http_call(const std::string& method, const std::string& url,
                      const std::string& body = "", const std::vector<std::string>& headers = {},
                      long timeout_ms = 30000);

} // namespace pixelcraft::test
