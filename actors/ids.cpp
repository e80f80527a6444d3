#include "actors/ids.hpp"

#include <cstdint>
#include <random>

namespace pixelcraft {

std::string random_uuid() {
  // std::random_device is getrandom(2) with libstdc++ on Linux: unpredictable, and safe to
  // call from any thread.
  static thread_local std::random_device device;
  uint8_t bytes[16];
  for (int i = 0; i < 16; i += 4) {
    auto r = device();
    for (int j = 0; j < 4; ++j)
      bytes[i + j] = static_cast<uint8_t>(r >> (8 * j));
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
