#include "actors/cluster/protocol.hpp"

namespace pixelcraft {

std::string wire_app_id() {
  return "pixelcraft-wire-" + std::to_string(wire_version);
}

uint64_t home_score(const std::string& node_name, const std::string& conversation_id) {
  // FNV-1a over `name \0 id`, then splitmix64's finalizer: every node computes the same score
  // (std::hash may differ between builds), and similar names still spread evenly.
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : node_name)
    mix(c);
  mix(0);
  for (unsigned char c : conversation_id)
    mix(c);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

} // namespace pixelcraft
