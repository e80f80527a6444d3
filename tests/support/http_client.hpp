#pragma once
/// A small blocking HTTP client (libcurl) for whole-server tests over loopback.

#include <map>
#include <string>
#include <vector>

namespace pixelcraft::test {

struct http_result {
  long status = 0;       ///< 0 when the transfer failed
  std::string body;
  std::map<std::string, std::string> headers; ///< lower-case names, last value wins
  std::string error;     ///< curl's message when status is 0
  std::string header(const std::string& lower_name) const {
    auto i = headers.find(lower_name);
    return i == headers.end() ? "" : i->second;
  }
};

http_result http_call(const std::string& method, const std::string& url,
                      const std::string& body = "",
                      const std::vector<std::string>& headers = {}, long timeout_ms = 30000);

} // namespace pixelcraft::test
