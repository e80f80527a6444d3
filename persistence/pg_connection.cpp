#include "persistence/detail.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace pixelcraft::persistence::detail {

bool closed_while_idle(pqxx::connection& c) {
  c.get_notifs(); // consumes input; throws broken_connection if the server is gone
  if (!c.is_open())
    return true;
  auto fd = c.sock();
  if (fd < 0)
    return true;
  char byte;
  auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

} // namespace pixelcraft::persistence::detail
