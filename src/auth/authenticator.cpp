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

std::shared_ptr<const Authenticator::Users> Authenticator::make_users(
    std::map<std::string, PasswordHash> entries, std::uint64_t generation) {
  auto users = std::make_shared<Users>();
  users->entries = std::move(entries);
  users->generation = generation;
  // Same cost as the real entries, so a miss takes as long as a hit.
  std::uint32_t iterations = kDefaultIterations;
  if (!users->entries.empty()) iterations = users->entries.begin()->second.iterations;
  users->decoy = hash_password("decoy", iterations);
  return users;
}

Authenticator::Authenticator(std::map<std::string, PasswordHash> users, int threads)
    : users_(make_users(std::move(users), 1)),
      caches_(static_cast<std::size_t>(std::max(1, threads))) {}

void Authenticator::replace_users(std::map<std::string, PasswordHash> users) {
  // Only the control thread replaces, so reading the generation and storing
  // the new set need not be one atomic step.
  const std::uint64_t next = users_.load()->generation + 1;
  users_.store(make_users(std::move(users), next));
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
  // Named locals, not temporaries, in the co_await (see below).
  std::string name = user;
  std::string password = decoded->substr(colon + 1);
  co_return co_await check_password(thread, std::move(name), std::move(password));
}

asio::awaitable<Outcome> Authenticator::check_password(int thread, std::string user,
                                                       std::string password) {
  // Held to the end of the check: a reload meanwhile frees nothing in use.
  const std::shared_ptr<const Users> users = users_.load();
  auto& cache = caches_[static_cast<std::size_t>(thread) % caches_.size()];
  const std::string key = digest(user + '\0' + password);
  const auto now = std::chrono::steady_clock::now();
  if (const auto it = cache.find(key); it != cache.end()) {
    if (it->second.until > now && it->second.generation == users->generation) co_return Outcome::Ok;
    cache.erase(it);
  }

  const auto found = users->entries.find(user);
  const PasswordHash& stored = found == users->entries.end() ? users->decoy : found->second;
  const bool known = found != users->entries.end();
  // The work holds `users` too: it may outlive this check (offload's timeout).
  // A named local, not a temporary: GCC 12 destroys temporaries of a
  // co_await expression wrongly (a double free was seen here).
  auto work = [users, &stored, password] { return verify_password(stored, password); };
  const auto verified = co_await offload(pool_, std::move(work), std::chrono::minutes(1));
  if (!known || !verified.value_or(false)) co_return Outcome::Invalid;
  if (cache.size() >= kMaxRemembered) cache.clear();
  cache.insert_or_assign(key, Remembered{users->generation, now + kRemember});
  co_return Outcome::Ok;
}

}  // namespace chokepoint::auth
