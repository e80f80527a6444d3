// libFuzzer target: workflow routing rules (workflows/routing_rules.cpp). Input:
// `rules\0result\0memory\0agent` (NUL-separated JSON texts and an agent name).
#include "tests/fuzz/fuzz_util.hpp"
#include "workflows/routing_rules.hpp"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = pixelcraft::fuzz::split_parts(data, size, 4);
  const std::vector<std::string> agents = {"intake", "analyst", "writer", p[3]};
  (void)pixelcraft::workflows::validate_rules(p[0], agents);
  for (bool first : {true, false}) {
    auto next = pixelcraft::workflows::next_agent(p[0], p[3], first, p[1], p[2]);
    if (next.empty())
      __builtin_trap(); // the contract: an agent's name or "end", never nothing
  }
  (void)pixelcraft::workflows::condition_matches(p[0], p[1], p[2]);
  return 0;
}
