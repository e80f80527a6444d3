#include "tests/support/ws_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <poll.h>
#include <random>
#include <unistd.h>

namespace pixelcraft::test {

ws_client::~ws_client() {
  if (fd_ >= 0)
    ::close(fd_);
}

int ws_client::connect(int port, const std::string& target,
                       const std::vector<std::string>& headers) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf_ > 0)
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf_, sizeof(rcvbuf_));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return 0;
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: " + upgrade_ +
                    "\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n";
  for (auto& h : headers)
    req += h + "\r\n";
  req += "\r\n";
  if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return 0;
  // Read the response head.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (buf_.find("\r\n\r\n") == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline)
      return 0;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0)
      continue;
    char tmp[4096];
    auto got = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (got <= 0)
      return 0;
    buf_.append(tmp, static_cast<size_t>(got));
  }
  auto head_end = buf_.find("\r\n\r\n") + 4;
  auto head = buf_.substr(0, head_end);
  buf_.erase(0, head_end);
  auto status = std::atoi(head.substr(9, 3).c_str());
  if (status == 101 && head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos)
    return -1; // wrong Sec-WebSocket-Accept
  return status;
}

bool ws_client::read_exact(size_t n, std::string& out, int timeout_ms) {
  out.clear();
  while (buf_.size() < n) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0)
      return false;
    char tmp[65536];
    auto got = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (got <= 0)
      return false;
    buf_.append(tmp, static_cast<size_t>(got));
  }
  out = buf_.substr(0, n);
  buf_.erase(0, n);
  return true;
}

bool ws_client::send_frame(uint8_t opcode, const std::string& payload) {
  std::string f;
  f += static_cast<char>(0x80 | opcode);
  auto n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xFF);
  }
  static std::mt19937 rng{std::random_device{}()};
  char mask[4];
  for (auto& m : mask)
    m = static_cast<char>(rng() & 0xFF);
  f.append(mask, 4);
  for (size_t i = 0; i < n; ++i)
    f += static_cast<char>(payload[i] ^ mask[i % 4]);
  size_t sent = 0;
  while (sent < f.size()) {
    auto r = ::send(fd_, f.data() + sent, f.size() - sent, MSG_NOSIGNAL);
    if (r <= 0)
      return false;
    sent += static_cast<size_t>(r);
  }
  return true;
}

bool ws_client::send_text(const std::string& text) {
  return send_frame(0x1, text);
}

std::optional<std::string> ws_client::next_text(int timeout_ms) {
  for (;;) {
    std::string h;
    if (!read_exact(2, h, timeout_ms))
      return std::nullopt;
    uint8_t opcode = static_cast<uint8_t>(h[0]) & 0x0F;
    uint64_t len = static_cast<uint8_t>(h[1]) & 0x7F;
    std::string ext;
    if (len == 126) {
      if (!read_exact(2, ext, timeout_ms))
        return std::nullopt;
      len = (static_cast<uint8_t>(ext[0]) << 8) | static_cast<uint8_t>(ext[1]);
    } else if (len == 127) {
      if (!read_exact(8, ext, timeout_ms))
        return std::nullopt;
      len = 0;
      for (char c : ext)
        len = (len << 8) | static_cast<uint8_t>(c);
    }
    std::string payload;
    if (len > 0 && !read_exact(static_cast<size_t>(len), payload, timeout_ms))
      return std::nullopt;
    if (opcode == 0x1)
      return payload;
    if (opcode == 0x8) {
      if (payload.size() >= 2)
        close_code_ = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                            static_cast<uint8_t>(payload[1]));
      return std::nullopt;
    }
    if (opcode == 0x9)
      send_frame(0xA, payload);
  }
}

} // namespace pixelcraft::test
