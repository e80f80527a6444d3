#include "http/error_mapping.hpp"

#include <caf/sec.hpp>

#include "actors/errc.hpp"

namespace pixelcraft::http {

std::pair<int, std::string> map_error(const caf::error& err) {
  if (err.category() == caf::atom("pixelcraft")) {
    std::string ctx;
    if (!err.context().empty() && err.context().match_element<std::string>(0))
      ctx = err.context().get_as<std::string>(0);
    auto with = [&](const char* fallback) { return ctx.empty() ? std::string{fallback} : ctx; };
    switch (static_cast<errc>(err.code())) {
      case errc::invalid_argument: return {422, with("invalid value")};
      case errc::not_found: return {404, with("not found")};
      case errc::already_exists: return {409, with("already exists")};
      case errc::failed_precondition: return {409, with("conflict with the current state")};
      case errc::aborted: return {409, with("concurrent update, retry")};
      case errc::unavailable: return {503, "service unavailable: " + with("dependency down")};
      case errc::deadline_exceeded: return {504, with("deadline exceeded")};
      case errc::unauthenticated: return {401, with("not authenticated")};
      case errc::permission_denied: return {403, with("forbidden")};
      case errc::internal: return {500, "internal server error"};
    }
  }
  if (err == caf::sec::request_timeout)
    return {504, "the request did not complete within the server's deadline"};
  if (err == caf::sec::request_receiver_down)
    return {503, "service unavailable: a component is restarting"};
  return {500, "internal server error"};
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

} // namespace pixelcraft::http
