#pragma once
/// Ids the runtime chooses itself, and how an id goes into a URL.

#include <string>
#include <string_view>

namespace pixelcraft {

/// A random (version 4) UUID: 122 bits from the kernel's CSPRNG (`getrandom`).
std::string random_uuid();

/// Whether `s` has a UUID's shape (8-4-4-4-12 hex digits, any version).
bool is_uuid(std::string_view s);

/// `s` as one URL path segment or query value: everything but RFC 3986 unreserved characters
/// percent-encoded (a vendor's record id, a calendar id).
std::string url_encode(std::string_view s);

/// A stable 64-bit FNV-1a digest of `s` as 16 hex digits: the same text gives the same digest
/// in every process and build (journal and approval keys). Not a cryptographic hash.
std::string digest_hex(std::string_view s);

} // namespace pixelcraft
