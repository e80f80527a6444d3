#pragma once
/// A minimal WebSocket client (RFC 6455) for tests: blocking, with timeouts.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pixelcraft::test {

class ws_client {
public:
  ~ws_client();
  /// Connects to 127.0.0.1:`port` and sends the upgrade request; returns the response status
  /// (101 when upgraded, 0 on a connection failure).
  int connect(int port, const std::string& target, const std::vector<std::string>& headers = {});
  /// Before `connect`: a small kernel receive buffer (bytes), to play a slow reader.
  void receive_buffer(int bytes) { rcvbuf_ = bytes; }
  /// Before `connect`: the `Upgrade` header's value (default `websocket`).
  void upgrade_value(std::string v) { upgrade_ = std::move(v); }
  bool send_text(const std::string& text);
  /// The next text frame, or nothing on timeout or close (then `close_code()` may tell why).
  std::optional<std::string> next_text(int timeout_ms = 10000);
  uint16_t close_code() const { return close_code_; }

private:
  bool read_exact(size_t n, std::string& out, int timeout_ms);
  bool send_frame(uint8_t opcode, const std::string& payload);
  int fd_ = -1;
  std::string buf_;
  uint16_t close_code_ = 0;
  int rcvbuf_ = 0;
  std::string upgrade_ = "websocket";
};

} // namespace pixelcraft::test
