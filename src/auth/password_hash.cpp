#include <charconv>
#include <sstream>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/core/trusted_file.hpp>

namespace chokepoint::auth {
namespace {

constexpr std::string_view kScheme = "$pbkdf2-sha256$";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

std::string derive(std::string_view password, const std::string& salt, std::uint32_t iterations) {
  std::string out(kHashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    out.clear();
  }
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes.
  std::size_t length = static_cast<std::size_t>(n);
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it)
    --length;
  out.resize(length);
  return out;
}

std::optional<PasswordHash> PasswordHash::parse(std::string_view text) {
  if (text.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  text.remove_prefix(kScheme.size());
  const auto d1 = text.find('$');
  const auto d2 = d1 == std::string_view::npos ? d1 : text.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  PasswordHash h;
  const auto digits = text.substr(0, d1);
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), h.iterations);
  if (ec != std::errc() || end != digits.data() + digits.size() || h.iterations < 1000)
    return std::nullopt;
  auto salt = base64_decode(text.substr(d1 + 1, d2 - d1 - 1));
  auto hash = base64_decode(text.substr(d2 + 1));
  if (!salt || !hash || salt->size() < 8 || hash->size() != kHashBytes) return std::nullopt;
  h.salt = std::move(*salt);
  h.hash = std::move(*hash);
  return h;
}

std::string PasswordHash::to_string() const {
  return std::string(kScheme) + std::to_string(iterations) + '$' + base64_encode(salt) + '$' +
         base64_encode(hash);
}

PasswordHash hash_password(std::string_view password, std::uint32_t iterations) {
  PasswordHash h;
  h.iterations = iterations;
  h.salt.resize(kSaltBytes);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(h.salt.data()),
                 static_cast<int>(h.salt.size())) != 1) {
    throw std::runtime_error("no randomness for a salt");  // start-up tool only (chokepoint passwd)
  }
  h.hash = derive(password, h.salt, iterations);
  return h;
}

bool verify_password(const PasswordHash& stored, std::string_view password) {
  const std::string derived = derive(password, stored.salt, stored.iterations);
  return derived.size() == stored.hash.size() &&
         CRYPTO_memcmp(derived.data(), stored.hash.data(), derived.size()) == 0;
}

Result<std::map<std::string, PasswordHash>> load_users(const std::string& path) {
  // Whoever may write this file chooses who gets in, and with which role.
  auto read = read_trusted_file(path);
  if (!read) return Result<std::map<std::string, PasswordHash>>::failure(read.diagnostics());
  std::istringstream in(std::move(read).value());
  Diagnostics problems;
  std::map<std::string, PasswordHash> users;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    const auto colon = line.find(':');
    auto hash = colon == std::string::npos
                    ? std::nullopt
                    : PasswordHash::parse(std::string_view(line).substr(colon + 1));
    if (colon == 0 || !hash) {
      problems.push_back(Diagnostic{
          path, number, 1, Severity::Error,
          "expected NAME:$pbkdf2-sha256$ITERATIONS$SALT$HASH (write it with chokepoint passwd)"});
      continue;
    }
    if (!users.emplace(line.substr(0, colon), std::move(*hash)).second) {
      problems.push_back(Diagnostic{path, number, 1, Severity::Error,
                                    "user '" + line.substr(0, colon) + "' is listed twice"});
    }
  }
  if (has_errors(problems))
    return Result<std::map<std::string, PasswordHash>>::failure(std::move(problems));
  return Result<std::map<std::string, PasswordHash>>(std::move(users));
}

}  // namespace chokepoint::auth
