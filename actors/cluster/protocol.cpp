#include "actors/cluster/protocol.hpp"

namespace pixelcraft {

std::string wire_app_id() {
  return "pixelcraft-wire-" + std::to_string(wire_version);
}

} // namespace pixelcraft
