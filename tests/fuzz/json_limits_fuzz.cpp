// libFuzzer target: the bounded JSON parser (actors/json_limits.hpp) and the walks that trust
// its depth fence (find_nul_strings, dump), plus the UTF-8 check.
#include "actors/json_limits.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  (void)pixelcraft::valid_utf8(text);
  for (std::size_t depth : {pixelcraft::client_depth, pixelcraft::internal_depth}) {
    pixelcraft::json_error err = pixelcraft::json_error::none;
    auto j = pixelcraft::parse_json(text, depth, &err);
    if (err != pixelcraft::json_error::none) {
      if (!j.is_discarded())
        __builtin_trap(); // a failure must return a discarded value
      continue;
    }
    if (j.is_discarded())
      __builtin_trap();
    nlohmann::json found = nlohmann::json::array();
    pixelcraft::find_nul_strings(j, nlohmann::json::array(), found);
    // What it accepted must serialise (dump throws on invalid UTF-8) and read back under the
    // same limit. (Not necessarily equal: nlohmann reads 1e400 as infinity and writes null.)
    auto again = pixelcraft::parse_json(j.dump(), depth, &err);
    if (err != pixelcraft::json_error::none || again.is_discarded())
      __builtin_trap();
  }
  try {
    (void)pixelcraft::parse_json_or_throw(text, pixelcraft::client_depth);
  } catch (const nlohmann::json::exception&) {
  }
  return 0;
}
