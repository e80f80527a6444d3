#include "tests/support/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <random>
#include <sstream>
#include <unistd.h>

namespace pixelcraft::test {

namespace {

using clock_type = std::chrono::steady_clock;

int ms_left(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

} // namespace

raw_conn::raw_conn(raw_conn&& other) noexcept
    : fd_(other.fd_), in_(std::move(other.in_)), closed_(other.closed_) {
  other.fd_ = -1;
}

raw_conn& raw_conn::operator=(raw_conn&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    in_ = std::move(other.in_);
    closed_ = other.closed_;
    other.fd_ = -1;
  }
  return *this;
}

raw_conn::~raw_conn() {
  close();
}

void raw_conn::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

bool raw_conn::connect(int port, const std::string& source, int timeout_ms) {
  close();
  in_.clear();
  closed_ = false;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    return false;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
      ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    close();
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0)
    return true;
  if (errno != EINPROGRESS) {
    close();
    return false;
  }
  pollfd p{fd_, POLLOUT, 0};
  if (::poll(&p, 1, timeout_ms) != 1) {
    close();
    return false;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    close();
    return false;
  }
  return true;
}

bool raw_conn::pump(int timeout_ms) {
  if (fd_ < 0 || closed_)
    return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0)
    return false;
  char tmp[65536];
  auto got = ::recv(fd_, tmp, sizeof(tmp), 0);
  if (got > 0) {
    in_.append(tmp, static_cast<size_t>(got));
    return true;
  }
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return true;
  closed_ = true; // EOF or reset
  return false;
}

void raw_conn::poll_now() {
  while (pump(0)) {
  }
}

bool raw_conn::send(std::string_view bytes, int timeout_ms) {
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (fd_ < 0 || closed_)
      return false;
    pollfd p{fd_, POLLIN | POLLOUT, 0};
    int left = ms_left(deadline);
    if (left == 0 || ::poll(&p, 1, left) <= 0)
      return false;
    if (p.revents & POLLIN)
      pump(0);
    if (p.revents & (POLLERR | POLLHUP)) {
      poll_now();
      closed_ = true;
      return false;
    }
    if (p.revents & POLLOUT) {
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0)
        sent += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        poll_now();
        closed_ = true;
        return false;
      }
    }
  }
  poll_now();
  return true;
}

bool raw_conn::read_until(std::string_view needle, int timeout_ms) {
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (in_.find(needle) == std::string::npos) {
    int left = ms_left(deadline);
    if (left == 0 || closed_ || fd_ < 0)
      break;
    pump(left);
  }
  return in_.find(needle) != std::string::npos;
}

bool raw_conn::wait_closed(int timeout_ms) {
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (!closed_ && fd_ >= 0) {
    int left = ms_left(deadline);
    if (left == 0)
      break;
    pump(left);
  }
  return closed_;
}

int raw_conn::status() const {
  if (in_.compare(0, 5, "HTTP/") != 0)
    return 0;
  auto eol = in_.find("\r\n");
  auto sp = in_.find(' ');
  if (eol == std::string::npos || sp == std::string::npos || sp + 4 > eol)
    return 0;
  return std::atoi(in_.substr(sp + 1, 3).c_str());
}

std::string raw_conn::header(const std::string& lower_name) const {
  auto end = in_.find("\r\n\r\n");
  if (end == std::string::npos)
    return "";
  std::istringstream lines{in_.substr(0, end)};
  std::string line;
  std::getline(lines, line); // status line
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos || lower(line.substr(0, colon)) != lower_name)
      continue;
    auto v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
  }
  return "";
}

std::string raw_conn::after_head() const {
  auto end = in_.find("\r\n\r\n");
  return end == std::string::npos ? std::string{} : in_.substr(end + 4);
}

std::string raw_head(const std::string& method, const std::string& target,
                     const std::string& extra) {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

namespace ws_raw {

int handshake(raw_conn& c, const std::string& target) {
  auto req = raw_head("GET", target,
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n");
  if (!c.send(req, 5000) || !c.read_until("\r\n\r\n", 10000))
    return 0;
  return c.status();
}

std::string frame_header(uint8_t opcode, uint64_t length) {
  std::string f;
  f += static_cast<char>(0x80 | opcode);
  if (length < 126) {
    f += static_cast<char>(0x80 | length);
  } else if (length < 65536) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>((length >> 8) & 0xFF);
    f += static_cast<char>(length & 0xFF);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>((length >> (8 * i)) & 0xFF);
  }
  f += std::string("\x11\x22\x33\x44", 4); // the mask key
  return f;
}

std::string frame(uint8_t opcode, const std::string& payload) {
  auto f = frame_header(opcode, payload.size());
  static const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  for (size_t i = 0; i < payload.size(); ++i)
    f += static_cast<char>(payload[i] ^ mask[i % 4]);
  return f;
}

namespace {

/// Walks the unmasked server frames in `data`; calls `on(opcode, payload)` for each whole one.
template <class F> void each_frame(const std::string& data, F on) {
  size_t pos = 0;
  while (pos + 2 <= data.size()) {
    auto op = static_cast<uint8_t>(data[pos]) & 0x0F;
    uint64_t len = static_cast<uint8_t>(data[pos + 1]) & 0x7F;
    size_t at = pos + 2;
    if (len == 126) {
      if (at + 2 > data.size())
        return;
      len = (static_cast<uint64_t>(static_cast<uint8_t>(data[at])) << 8) |
            static_cast<uint8_t>(data[at + 1]);
      at += 2;
    } else if (len == 127) {
      if (at + 8 > data.size())
        return;
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | static_cast<uint8_t>(data[at + i]);
      at += 8;
    }
    if (at + len > data.size())
      return;
    on(op, data.substr(at, static_cast<size_t>(len)));
    pos = at + static_cast<size_t>(len);
  }
}

std::optional<uint16_t> close_code_in(const std::string& data) {
  std::optional<uint16_t> code;
  each_frame(data, [&](uint8_t op, const std::string& payload) {
    if (op != 0x8 || code)
      return;
    code = payload.size() >= 2 ? static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                                       static_cast<uint8_t>(payload[1]))
                               : uint16_t{0};
  });
  return code;
}

} // namespace

std::optional<uint16_t> read_close_code(raw_conn& c, int timeout_ms) {
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    c.poll_now();
    if (auto code = close_code_in(c.after_head()))
      return code;
    if (c.peer_closed() || ms_left(deadline) == 0)
      return std::nullopt;
    c.read_some(std::min(ms_left(deadline), 200));
  }
}

std::vector<std::string> texts(const raw_conn& c) {
  std::vector<std::string> out;
  each_frame(c.after_head(), [&](uint8_t op, const std::string& payload) {
    if (op == 0x1)
      out.push_back(payload);
  });
  return out;
}

} // namespace ws_raw

long vm_rss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return -1;
}

bool process_running(pid_t pid) {
  if (pid <= 0)
    return false;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  if (!std::getline(in, stat))
    return false;
  // "pid (comm) S ...": the state follows the last ')' (comm may hold spaces or parens).
  auto rp = stat.rfind(')');
  if (rp == std::string::npos || rp + 2 >= stat.size())
    return false;
  char state = stat[rp + 2];
  return state != 'Z' && state != 'X' && state != 'x';
}

long raise_nofile(long want) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  auto target = static_cast<rlim_t>(want);
  if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
    target = rl.rlim_max;
  if (rl.rlim_cur < target) {
    rl.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<long>(rl.rlim_cur);
}

long set_nofile_soft(long soft) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  auto old = static_cast<long>(rl.rlim_cur);
  rl.rlim_cur = static_cast<rlim_t>(soft);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
    rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  return old;
}

} // namespace pixelcraft::test
