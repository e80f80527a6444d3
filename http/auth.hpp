#pragma once
/// JWT (HS256) verification and roles (API.md §2), with OpenSSL directly (STACK.md §8).
///
/// Pure functions of (token, secret, audience, now): safe on any thread, no I/O.

#include <cstdint>
#include <string>
#include <string_view>

namespace pixelcraft::http {

enum class role : uint8_t { anonymous, user, admin };

struct principal {
  role who = role::anonymous;
  std::string sub; ///< empty for anonymous
};

struct jwt_result {
  bool ok = false;
  principal who;
  std::string error; ///< why the token was refused (safe to show: no token material)
};

class jwt_verifier {
public:
  jwt_verifier(std::string secret, std::string audience, int64_t leeway_s = 30)
      : secret_(std::move(secret)), audience_(std::move(audience)), leeway_s_(leeway_s) {}

  /// Verifies `token` at unix time `now_s`: signature, `alg` pinned to HS256, `exp` required
  /// and in the future, `nbf`/`iat` not in the future (leeway), then either `role: anon`
  /// (anonymous) or `aud` (string or array) containing our audience and a non-empty `sub`.
  jwt_result verify(std::string_view token, int64_t now_s) const;

private:
  std::string secret_;
  std::string audience_;
  int64_t leeway_s_;
};

/// Signs `payload_json` with HS256 under `header_json`. For the ephemeral admin token at
/// start-up and for tests (which try other headers).
std::string jwt_sign_hs256(std::string_view payload_json, std::string_view secret,
                           std::string_view header_json = R"({"alg":"HS256","typ":"JWT"})");

/// `n` cryptographically random bytes as lowercase hex.
std::string random_hex(size_t n);

/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

std::string base64url_encode(std::string_view data);
/// Returns false on characters outside the base64url alphabet or a bad length.
bool base64url_decode(std::string_view in, std::string& out);

} // namespace pixelcraft::http
