#include "http/auth.hpp"

#include "actors/json_limits.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace pixelcraft::http {

namespace {

using json = nlohmann::json;

constexpr char b64url_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  return std::string(reinterpret_cast<char*>(mac), mac_len);
}

jwt_result refuse(std::string why) {
  jwt_result r;
  r.error = std::move(why);
  return r;
}

/// A NumericDate claim: a JSON number (integer or not). Absent: false with `present` unset.
bool numeric_claim(const json& p, const char* name, bool& present, double& out) {
  present = p.contains(name);
  if (!present)
    return true;
  const auto& v = p[name];
  if (!v.is_number())
    return false;
  out = v.get<double>();
  return std::isfinite(out);
}

} // namespace

std::string base64url_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(data[k]); };
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += b64url_chars[(v >> 18) & 63];
    out += b64url_chars[(v >> 12) & 63];
    out += b64url_chars[(v >> 6) & 63];
    out += b64url_chars[v & 63];
  }
  if (data.size() - i == 1) {
    uint32_t v = byte(i) << 16;
    out += b64url_chars[(v >> 18) & 63];
    out += b64url_chars[(v >> 12) & 63];
  } else if (data.size() - i == 2) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += b64url_chars[(v >> 18) & 63];
    out += b64url_chars[(v >> 12) & 63];
    out += b64url_chars[(v >> 6) & 63];
  }
  return out;
}

bool base64url_decode(std::string_view in, std::string& out) {
  while (!in.empty() && in.back() == '=')
    in.remove_suffix(1);
  if (in.size() % 4 == 1)
    return false;
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

jwt_result jwt_verifier::verify(std::string_view token, int64_t now_s) const {
  if (token.size() > 8192)
    return refuse("token too long");
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos)
    return refuse("malformed token");
  std::string header_raw, payload_raw, sig;
  if (!base64url_decode(token.substr(0, d1), header_raw) ||
      !base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), payload_raw) ||
      !base64url_decode(token.substr(d2 + 1), sig))
    return refuse("malformed token");
  auto header = parse_json(header_raw, client_depth);
  if (!header.is_object() || !header.contains("alg") || !header["alg"].is_string() ||
      header["alg"].get<std::string>() != "HS256")
    return refuse("unsupported token algorithm");
  // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; we understand none.
  if (header.contains("crit"))
    return refuse("unsupported token header (crit)");
  auto mac = hmac_sha256(secret_, token.substr(0, d2));
  if (sig.size() != mac.size() || CRYPTO_memcmp(sig.data(), mac.data(), mac.size()) != 0)
    return refuse("invalid token signature");
  auto p = parse_json(payload_raw, client_depth);
  if (!p.is_object())
    return refuse("malformed token payload");
  bool present = false;
  double exp = 0, nbf = 0, iat = 0;
  if (!numeric_claim(p, "exp", present, exp))
    return refuse("invalid exp claim");
  if (!present)
    return refuse("token has no exp claim");
  if (exp + static_cast<double>(leeway_s_) <= static_cast<double>(now_s))
    return refuse("token expired");
  if (!numeric_claim(p, "nbf", present, nbf))
    return refuse("invalid nbf claim");
  if (present && nbf > static_cast<double>(now_s + leeway_s_))
    return refuse("token not yet valid");
  if (!numeric_claim(p, "iat", present, iat))
    return refuse("invalid iat claim");
  if (present && iat > static_cast<double>(now_s + leeway_s_))
    return refuse("token issued in the future");
  auto role_claim =
      p.contains("role") && p["role"].is_string() ? p["role"].get<std::string>() : std::string{};
  if (role_claim == "anon") {
    jwt_result r;
    r.ok = true;
    return r; // Supabase's anon key: a valid token for nobody
  }
  bool aud_ok = false;
  if (p.contains("aud")) {
    const auto& aud = p["aud"];
    if (aud.is_string()) {
      aud_ok = aud.get<std::string>() == audience_;
    } else if (aud.is_array()) {
      for (const auto& a : aud)
        if (a.is_string() && a.get<std::string>() == audience_)
          aud_ok = true;
    }
  }
  if (!aud_ok)
    return refuse("token audience mismatch");
  if (!p.contains("sub") || !p["sub"].is_string() || p["sub"].get<std::string>().empty())
    return refuse("token has no subject");
  // The subject becomes `owner_id` in every row this caller writes: text PostgreSQL can store.
  if (p["sub"].get_ref<const std::string&>().find('\0') != std::string::npos ||
      p["sub"].get_ref<const std::string&>().size() > 256)
    return refuse("token has an invalid subject");
  jwt_result r;
  r.ok = true;
  r.who.sub = p["sub"].get<std::string>();
  bool admin = role_claim == "service_role";
  if (p.contains("app_metadata") && p["app_metadata"].is_object()) {
    const auto& md = p["app_metadata"];
    if (md.contains("role") && md["role"].is_string() && md["role"].get<std::string>() == "admin")
      admin = true;
  }
  r.who.who = admin ? role::admin : role::user;
  return r;
}

std::string jwt_sign_hs256(std::string_view payload_json, std::string_view secret,
                           std::string_view header_json) {
  auto signing_input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

std::string random_hex(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned char c : bytes) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

} // namespace pixelcraft::http
