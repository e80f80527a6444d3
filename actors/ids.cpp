#include "actors/ids.hpp"

#include <sys/random.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace pixelcraft {

namespace {

/// Fills `out` from the kernel CSPRNG (getrandom(2)), retrying on EINTR.
void fill_random(uint8_t* out, size_t size) {
  size_t got = 0;
  while (got < size) {
    auto n = getrandom(out + got, size - got, 0);
    if (n > 0)
      got += static_cast<size_t>(n);
    else if (errno != EINTR)
      throw std::runtime_error("getrandom failed");
  }
}

} // namespace

std::string random_uuid() {
  // The kernel CSPRNG, read 512 bytes at a time per thread (32 ids per system call): one call
  // per id was a measurable share of agent messaging. (std::random_device costs a call per 4
  // bytes, and its RDSEED retries once made it the bottleneck.)
  thread_local uint8_t pool[512];
  thread_local size_t used = sizeof pool;
  if (used + 16 > sizeof pool) {
    fill_random(pool, sizeof pool);
    used = 0;
  }
  uint8_t bytes[16];
  std::memcpy(bytes, pool + used, sizeof bytes);
  std::memset(pool + used, 0, sizeof bytes); // an id's bytes are not kept around
  used += sizeof bytes;
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

bool is_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])))
      return false;
  }
  return true;
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string digest_hex(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4)
    out[static_cast<size_t>(i)] = hex[h & 15];
  return out;
}

} // namespace pixelcraft
