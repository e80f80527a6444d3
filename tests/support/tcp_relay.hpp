#pragma once
/// A TCP relay for tests: listens on `bind_ip` (any free port) and pipes each connection to
/// 127.0.0.1:`upstream_port`. The cluster test gives a worker in another network namespace the
/// database and the fake model this way, over the veth pair it then cuts.

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pixelcraft::test {

class tcp_relay {
public:
  tcp_relay(const std::string& bind_ip, int upstream_port);
  ~tcp_relay();
  tcp_relay(const tcp_relay&) = delete;
  tcp_relay& operator=(const tcp_relay&) = delete;

  bool ok() const { return listener_ >= 0; }
  int port() const { return port_; }

private:
  void accept_loop();

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<int> sockets_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

} // namespace pixelcraft::test
