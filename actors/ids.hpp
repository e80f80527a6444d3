#pragma once
/// Ids the runtime chooses itself.

#include <string>

namespace pixelcraft {

/// A random (version 4) UUID: 122 bits from the kernel's CSPRNG (`getrandom`).
std::string random_uuid();

} // namespace pixelcraft
