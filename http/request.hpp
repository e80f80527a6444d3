#pragma once
/// Transport-neutral HTTP request and response, so routes never include RESTinio (build time,
/// STACK.md §3). server.cpp converts; everything else in http/ works on these.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pixelcraft::http {

struct http_request {
  std::string method;  ///< upper case, e.g. `GET`
  std::string target;  ///< raw request target (path and query)
  std::string path;    ///< raw path, not decoded
  std::string query;   ///< raw query without `?`
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< names lower-cased
  std::string remote_ip;

  /// First value of a header (name in lower case); nullptr when absent.
  const std::string* header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name)
        return &v;
    return nullptr;
  }
};

struct http_response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// Where a response goes. Implemented in server.cpp over a RESTinio request handle.
/// `send` may be called from any thread, at most once; it never blocks.
struct response_sink {
  virtual ~response_sink() = default;
  virtual void send(http_response r) = 0;
};

using response_sink_ptr = std::shared_ptr<response_sink>;

} // namespace pixelcraft::http
