#pragma once
/// Transport-neutral HTTP request and response, so routes never include RESTinio (build time,
/// STACK.md §3). server.cpp converts; everything else in http/ works on these.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pixelcraft::http {

struct http_request {
  std::string method; ///< upper case, e.g. `GET`
  std::string target; ///< raw request target (path and query)
  std::string path;   ///< raw path, not decoded
  std::string query;  ///< raw query without `?`
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

/// A streamed (chunked) response, e.g. SSE. Calls must be serialised by one owner (the stream
/// actor); each `write` is flushed at once. `on_gone` runs on an I/O thread when a write fails
/// because the client left: the disconnect signal.
struct stream_sink {
  virtual ~stream_sink() = default;
  virtual void write(std::string chunk) = 0;
  virtual void close() = 0;
};

using stream_sink_ptr = std::shared_ptr<stream_sink>;

/// An upgraded WebSocket. Calls must be serialised by one owner (the monitor hub).
struct ws_session {
  virtual ~ws_session() = default;
  /// Queues a text frame; never blocks.
  virtual void send_text(std::string text) = 0;
  /// Bytes queued by `send_text` and not yet written to the socket (a slow reader's backlog).
  virtual size_t unsent_bytes() const = 0;
  /// Sends a close frame with `code` (e.g. 1000, 1009) and ends the session.
  virtual void close(uint16_t code, std::string reason) = 0;
};

using ws_session_ptr = std::shared_ptr<ws_session>;

/// Callbacks of a WebSocket; they run on an I/O thread and must only hand work to an actor.
struct ws_callbacks {
  std::function<void(ws_session_ptr)> ready; ///< the upgrade is done
  std::function<void(std::string)> text;     ///< a text frame from the client
  std::function<void()> closed;              ///< the client closed or went away
};

/// Where a response goes. Implemented in server.cpp over a RESTinio request handle.
/// Either `send` (once) or `open_stream` (once); both may be called from any thread and never
/// block.
struct response_sink {
  virtual ~response_sink() = default;
  virtual void send(http_response r) = 0;
  /// Sends the status line and headers now and returns the sink for the body's chunks.
  virtual stream_sink_ptr open_stream(http_response head, std::function<void()> on_gone) = 0;
  /// Answers 101 and turns the connection into a WebSocket (the request must be an upgrade
  /// request with `Sec-WebSocket-Key`). Returns false if it is not one.
  virtual bool upgrade_websocket(ws_callbacks callbacks) = 0;
};

using response_sink_ptr = std::shared_ptr<response_sink>;

} // namespace pixelcraft::http
