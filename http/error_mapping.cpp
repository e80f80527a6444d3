#include "http/error_mapping.hpp"

#include "actors/errc.hpp"

#include <caf/sec.hpp>

namespace pixelcraft::http {

std::pair<int, std::string> map_error(const caf::error& err) {
  if (!err)
    return {500, "internal server error"};
  // Compared with their category: a `caf::sec` code and an `errc` may share a number
  // (`sec::request_timeout` is 4, as is `errc::failed_precondition`).
  struct entry {
    errc code;
    int status;
    const char* fallback;
  };
  static constexpr entry table[] = {
      {errc::invalid_argument, 422, "invalid value"},
      {errc::not_found, 404, "not found"},
      {errc::already_exists, 409, "already exists"},
      {errc::failed_precondition, 409, "conflict with the current state"},
      {errc::aborted, 409, "concurrent update, retry"},
      {errc::unavailable, 503, "dependency down"},
      {errc::deadline_exceeded, 504, "deadline exceeded"},
      {errc::unauthenticated, 401, "not authenticated"},
      {errc::permission_denied, 403, "forbidden"},
  };
  for (const auto& e : table) {
    if (err != e.code)
      continue;
    std::string ctx;
    if (!err.context().empty() && err.context().match_element<std::string>(0))
      ctx = err.context().get_as<std::string>(0);
    auto detail = ctx.empty() ? std::string{e.fallback} : ctx;
    if (e.code == errc::unavailable)
      detail = "service unavailable: " + detail;
    return {e.status, detail};
  }
  if (err == caf::sec::request_timeout)
    return {504, "the request did not complete within the server's deadline"};
  if (err == caf::sec::request_receiver_down)
    return {503, "service unavailable: a component is restarting"};
  return {500, "internal server error"}; // errc::internal and anything unknown
}

const char* reason_phrase(int status) {
  switch (status) {
  case 100:
    return "Continue";
  case 101:
    return "Switching Protocols";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 304:
    return "Not Modified";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 406:
    return "Not Acceptable";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 413:
    return "Payload Too Large";
  case 414:
    return "URI Too Long";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Entity";
  case 426:
    return "Upgrade Required";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "Unknown";
  }
}

} // namespace pixelcraft::http
