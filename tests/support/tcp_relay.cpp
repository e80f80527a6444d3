#include "tests/support/tcp_relay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <poll.h>
#include <unistd.h>

namespace pixelcraft::test {

namespace {

/// Copies one direction until EOF or an error, then half-closes the other side.
void pump(int from, int to) {
  char buf[16384];
  for (;;) {
    auto n = ::recv(from, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    for (ssize_t off = 0; off < n;) {
      auto w = ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0)
        return;
      off += w;
    }
  }
  ::shutdown(to, SHUT_WR);
}

} // namespace

tcp_relay::tcp_relay(const std::string& bind_ip, int upstream_port)
    : upstream_port_(upstream_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, bind_ip.c_str(), &a.sin_addr);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return;
  }
  listener_ = fd;
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

void tcp_relay::accept_loop() {
  while (!stopping_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0)
      continue;
    int up = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(up);
      ::close(client);
      continue;
    }
    std::lock_guard<std::mutex> guard{mutex_};
    sockets_.push_back(client);
    sockets_.push_back(up);
    threads_.emplace_back(pump, client, up);
    threads_.emplace_back(pump, up, client);
  }
}

tcp_relay::~tcp_relay() {
  stopping_ = true;
  if (acceptor_.joinable())
    acceptor_.join();
  if (listener_ >= 0)
    ::close(listener_);
  std::lock_guard<std::mutex> guard{mutex_};
  for (int fd : sockets_)
    ::shutdown(fd, SHUT_RDWR); // wakes the pumps
  for (auto& t : threads_)
    t.join();
  for (int fd : sockets_)
    ::close(fd);
}

} // namespace pixelcraft::test
