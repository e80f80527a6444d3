#pragma once
/// The HTTP server (RESTinio), kept to this header and server.cpp so that only one translation
/// unit pays RESTinio's compile time (STACK.md §3).
///
/// - `start` binds and runs `io_threads` asio threads; each complete request goes to `handler`
///   on one of them, with a `response_sink` that may be completed later from any thread.
/// - RESTinio's own limits are set as hard caps above ours (body 4x and at least 16 MiB, headers and URL 8x), so
///   requests between our limit and the cap get a proper 413/431/414 from `api`, and only
///   abusive ones are dropped at the socket.
/// - `stop` (or the destructor) stops accepting, closes connections and joins the threads.
///   Sinks may still be completed after `stop` (their output is dropped), but the server
///   object must outlive every sink: destroy it only once no actor can hold one.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/request.hpp"

namespace pixelcraft::http {

struct server_options {
  std::string host = "0.0.0.0";
  uint16_t port = 8000; ///< 0: pick a free port (tests)
  unsigned io_threads = 2;
  uint64_t max_body_bytes = 1 << 20;
  uint64_t max_header_bytes = 16384;
  std::chrono::seconds handle_timeout{180}; ///< above our own deadlines (API 504s come first)
  size_t max_connections = 1024;
};

class http_server {
public:
  using handler = std::function<void(http_request, response_sink_ptr)>;

  /// Returns nullptr and sets `error` when the server cannot start (address in use, ...).
  static std::unique_ptr<http_server> start(const server_options& opts, handler h,
                                            std::string& error);
  virtual ~http_server() = default;
  virtual uint16_t port() const = 0;
  virtual void stop() = 0;
};

} // namespace pixelcraft::http
