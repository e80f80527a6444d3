#include "actors/ids.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>

namespace pixelcraft {

std::string random_uuid() {
  // One getrandom(2) call for all 16 bytes: the kernel CSPRNG, safe from any thread.
  // (std::random_device costs a call per 4 bytes, and RDSEED retries made it the bottleneck
  // of agent messaging.)
  uint8_t bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    auto n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0)
      got += static_cast<size_t>(n);
    else if (errno != EINTR)
      throw std::runtime_error("getrandom failed");
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40); // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80); // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    out += hex[bytes[i] >> 4];
    out += hex[bytes[i] & 15];
  }
  return out;
}

} // namespace pixelcraft
