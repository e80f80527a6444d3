#pragma once
/// Raw TCP for hostile-input tests: bytes a well-behaved client library would refuse to send
/// (malformed requests, oversized heads, lying WebSocket frame headers), and the exact bytes the
/// server answers with. Blocking calls with timeouts; loopback only.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pixelcraft::test {

/// One TCP connection to 127.0.0.1. Everything the server sends is kept in `received()`,
/// including what arrives while we are still sending (so a status written before a reset
/// is not lost).
class raw_conn {
public:
  raw_conn() = default;
  raw_conn(raw_conn&& other) noexcept;
  raw_conn& operator=(raw_conn&& other) noexcept;
  raw_conn(const raw_conn&) = delete;
  raw_conn& operator=(const raw_conn&) = delete;
  ~raw_conn();

  /// Connects to 127.0.0.1:`port` from the local address `source` (any 127.x.y.z works on
  /// Linux loopback, so tests can play distinct clients). False on failure or timeout.
  bool connect(int port, const std::string& source = "127.0.0.1", int timeout_ms = 3000);
  /// Sends every byte unless the peer closes or `timeout_ms` passes; reads meanwhile.
  /// Returns false when not everything could be sent.
  bool send(std::string_view bytes, int timeout_ms = 20000);
  /// Reads until `needle` is in `received()`, the peer closes, or the timeout; true if found.
  bool read_until(std::string_view needle, int timeout_ms);
  /// Waits for the peer to close (EOF or reset); true if it did within the timeout.
  bool wait_closed(int timeout_ms);
  /// Reads whatever is ready without waiting.
  void poll_now();
  /// Waits up to `timeout_ms` for bytes and reads one batch; false when nothing came.
  bool read_some(int timeout_ms) { return pump(timeout_ms); }

  /// The status of the response head in `received()`, 0 if no complete status line.
  int status() const;
  /// A header of the first response head (lower-case name), empty if absent.
  std::string header(const std::string& lower_name) const;
  /// `received()` after the first response head.
  std::string after_head() const;

  const std::string& received() const { return in_; }
  bool peer_closed() const { return closed_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

private:
  /// One poll/recv round; false when nothing more can come (closed or timed out).
  bool pump(int timeout_ms);
  int fd_ = -1;
  std::string in_;
  bool closed_ = false;
};

/// A request head: `method target HTTP/1.1`, a Host header, `extra` (each "Name: value"
/// terminated by CRLF by the caller), and the empty line.
std::string raw_head(const std::string& method, const std::string& target,
                     const std::string& extra = "");

/// WebSocket (RFC 6455) over a raw connection: the upgrade, frame headers that may lie about
/// their length, and the server's close code.
namespace ws_raw {

/// Sends the upgrade for `target` and reads the answer's head; returns its status (101 on
/// success, 0 when no answer).
int handshake(raw_conn& c, const std::string& target);
/// A masked client frame header declaring `length` payload bytes (no payload).
std::string frame_header(uint8_t opcode, uint64_t length);
/// A whole masked client frame.
std::string frame(uint8_t opcode, const std::string& payload);
/// Reads server frames after the handshake until a close frame or the timeout; returns its
/// code (0 for a close frame without one), nothing if none came.
std::optional<uint16_t> read_close_code(raw_conn& c, int timeout_ms);
/// The text frames the server sent so far (after the handshake).
std::vector<std::string> texts(const raw_conn& c);

} // namespace ws_raw

/// The kernel's view of a process: resident memory and whether it still runs.
long vm_rss_kib(pid_t pid);      ///< VmRSS from /proc/<pid>/status, -1 if unreadable
bool process_running(pid_t pid); ///< exists and is neither a zombie nor dead
/// Raises this process's soft open-file limit to `want` (capped by the hard limit);
/// returns the soft limit now in force.
long raise_nofile(long want);
/// Sets this process's soft open-file limit (children inherit it); returns the old one.
long set_nofile_soft(long soft);

} // namespace pixelcraft::test
