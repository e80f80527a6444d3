#pragma once
/// The HTTP server (RESTinio), kept to this header and server.cpp so that only one translation
/// unit pays RESTinio's compile time (STACK.md §3).
///
/// - `start` binds and runs `io_threads` asio threads; each complete request goes to `handler`
///   on one of them, with a `response_sink` that may be completed later from any thread.
/// - Every limit is answered before the connection closes (API.md §1, v1.1): a body over
///   `max_body_bytes` is 413 (at once for a `Content-Length` over it, before the body is read),
///   a URL over `max_url_bytes` 414, a header over `max_header_bytes` or more than
///   `max_header_count` headers 431, any other malformed request 400. After such an answer the
///   server stops sending and drains the peer's input briefly (at most 1 MiB / 2 s) so the
///   answer is not lost to a TCP reset.
/// - Connections: at most `max_connections` in all and `max_connections_per_client` per client
///   address (WebSockets included); a connection past either gets 503 with `Retry-After` and is
///   closed. The open-file limit is raised at start to fit. Headers must be complete within
///   `header_timeout` (also the idle keep-alive time); the body then has `body_timeout`.
/// - WebSocket frames declaring more than 64 KiB close the socket with 1009 before any payload
///   is read.
/// - One server per process: the transport settings above are process-wide.
/// - `stop` (or the destructor) stops accepting, closes connections and joins the threads.
///   Sinks may still be completed after `stop` (their output is dropped), but the server
///   object must outlive every sink: destroy it only once no actor can hold one.

#include "http/request.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace pixelcraft::http {

struct server_options {
  std::string host = "0.0.0.0";
  uint16_t port = 8000; ///< 0: pick a free port (tests)
  unsigned io_threads = 2;
  uint64_t max_body_bytes = 1 << 20;
  uint64_t max_header_bytes = 16384;
  size_t max_url_bytes = 8192;
  size_t max_header_count = 100;
  std::chrono::seconds handle_timeout{180}; ///< above our own deadlines (API 504s come first)
  std::chrono::seconds header_timeout{10};  ///< request headers complete within this
  std::chrono::seconds body_timeout{60};    ///< the body after the headers
  size_t max_connections = 10000;
  size_t max_connections_per_client = 256;
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
