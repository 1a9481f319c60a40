// Salted password hashes for proxy users: PBKDF2-HMAC-SHA256 from OpenSSL.
//
// Stored form (one line per user in the users file, like htpasswd):
//   NAME:$pbkdf2-sha256$ITERATIONS$SALT_BASE64$HASH_BASE64
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/core/diagnostic.hpp>

namespace chokepoint::auth {

inline constexpr std::uint32_t kDefaultIterations = 600'000;  // OWASP 2023 for PBKDF2-HMAC-SHA256

struct PasswordHash {
  std::uint32_t iterations = kDefaultIterations;
  std::string salt;  // raw bytes
  std::string hash;  // raw bytes, 32

  static std::optional<PasswordHash> parse(std::string_view text);
  std::string to_string() const;
};

// A new hash of `password` with a fresh random salt.
PasswordHash hash_password(std::string_view password,
                           std::uint32_t iterations = kDefaultIterations);
// Constant-time comparison of the derived key against the stored one.
bool verify_password(const PasswordHash& stored, std::string_view password);

// The users file: name -> hash. Problems as file:line:col diagnostics.
Result<std::map<std::string, PasswordHash>> load_users(const std::string& path);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace chokepoint::auth
