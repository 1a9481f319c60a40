#include <openssl/sha.h>

#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/core/offload.hpp>

namespace chokepoint::auth {
namespace {

constexpr std::chrono::minutes kRemember{5};
constexpr std::size_t kMaxRemembered = 4096;

std::string digest(std::string_view text) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

bool starts_with_basic(std::string_view value) {
  if (value.size() < 6) return false;
  for (std::size_t i = 0; i < 5; ++i) {
    if ((value[i] | 0x20) != "basic"[i]) return false;
  }
  return value[5] == ' ';
}

}  // namespace

Authenticator::Authenticator(std::map<std::string, PasswordHash> users, int threads)
    : users_(std::move(users)), caches_(static_cast<std::size_t>(std::max(1, threads))) {
  // Same cost as the real entries, so a miss takes as long as a hit.
  std::uint32_t iterations = kDefaultIterations;
  if (!users_.empty()) iterations = users_.begin()->second.iterations;
  decoy_ = hash_password("decoy", iterations);
}

Authenticator::~Authenticator() {
  pool_.stop();
  pool_.join();
}

asio::awaitable<Outcome> Authenticator::check(int thread, std::string_view header,
                                              std::string& user) {
  if (header.empty()) co_return Outcome::Missing;
  if (!starts_with_basic(header)) co_return Outcome::Malformed;
  std::string_view encoded = header.substr(6);
  while (!encoded.empty() && encoded.front() == ' ')
    encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ')
    encoded.remove_suffix(1);
  const auto decoded = base64_decode(encoded);
  if (!decoded) co_return Outcome::Malformed;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) co_return Outcome::Malformed;
  user = decoded->substr(0, colon);
  const std::string password = decoded->substr(colon + 1);

  auto& cache = caches_[static_cast<std::size_t>(thread) % caches_.size()];
  const std::string key = digest(header);
  const auto now = std::chrono::steady_clock::now();
  if (const auto it = cache.find(key); it != cache.end()) {
    if (it->second.until > now) co_return Outcome::Ok;
    cache.erase(it);
  }

  const auto found = users_.find(user);
  const PasswordHash& stored = found == users_.end() ? decoy_ : found->second;
  const bool known = found != users_.end();
  // The users map and the decoy outlive every check (the authenticator
  // outlives the I/O threads), so the work may refer to them.
  // A named local, not a temporary: GCC 12 destroys temporaries of a
  // co_await expression wrongly (a double free was seen here).
  auto work = [&stored, password] { return verify_password(stored, password); };
  const auto verified = co_await offload(pool_, std::move(work), std::chrono::minutes(1));
  if (!known || !verified.value_or(false)) co_return Outcome::Invalid;
  if (cache.size() >= kMaxRemembered) cache.clear();
  cache.emplace(key, Remembered{user, now + kRemember});
  co_return Outcome::Ok;
}

}  // namespace chokepoint::auth
