#pragma once
/// Helpers shared by the libFuzzer targets: split an input into parts at NUL bytes (seed files
/// are written that way: `rules\0result\0memory`), so each part can be a JSON text.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft::fuzz {

/// The first `n` NUL-separated parts of `data` (missing parts are empty; the last part keeps
/// any further NULs).
inline std::vector<std::string> split_parts(const uint8_t* data, size_t size, size_t n) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && out.size() + 1 < n) {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  out.push_back(std::move(cur));
  out.resize(n);
  return out;
}

} // namespace pixelcraft::fuzz
