#include <algorithm>

#include <openssl/sha.h>

#include <chokepoint/auth/authenticator.hpp>

namespace chokepoint::auth {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::minutes kRemember{5};
constexpr std::size_t kMaxRemembered = 4096;
// Networks a user's good logins are remembered from, and users remembered.
constexpr std::size_t kGoodNetworksPerUser = 8;
constexpr std::size_t kMaxGoodUsers = 4096;

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

std::string seconds_text(std::chrono::milliseconds wait) {
  return std::to_string(std::max<std::int64_t>(1, (wait.count() + 999) / 1000)) + " s";
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

Authenticator::Authenticator(std::map<std::string, PasswordHash> users, AuthOptions options)
    : users_(make_users(std::move(users), 1)),
      caches_(static_cast<std::size_t>(std::max(1, options.threads))),
      per_client_(options.per_client),
      per_user_(options.per_user),
      pool_(options.hashing) {}

Authenticator::~Authenticator() = default;

void Authenticator::replace_users(std::map<std::string, PasswordHash> users) {
  // Only the control thread replaces, so reading the generation and storing
  // the new set need not be one atomic step.
  const std::uint64_t next = users_.load()->generation + 1;
  users_.store(make_users(std::move(users), next));
}

AuthStats Authenticator::stats() const {
  return AuthStats{throttled_client_.load(std::memory_order_relaxed),
                   throttled_user_.load(std::memory_order_relaxed), pool_.stats()};
}

asio::awaitable<Verdict> Authenticator::check(int thread, std::string_view header,
                                              std::string& user, Requester requester) {
  if (header.empty()) co_return Verdict{Outcome::Missing};
  if (!starts_with_basic(header)) co_return Verdict{Outcome::Malformed};
  std::string_view encoded = header.substr(6);
  while (!encoded.empty() && encoded.front() == ' ')
    encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ')
    encoded.remove_suffix(1);
  const auto decoded = base64_decode(encoded);
  if (!decoded) co_return Verdict{Outcome::Malformed};
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) co_return Verdict{Outcome::Malformed};
  user = decoded->substr(0, colon);
  // Named locals, not temporaries, in the co_await (see below).
  std::string name = user;
  std::string password = decoded->substr(colon + 1);
  co_return co_await check_password(thread, std::move(name), std::move(password), requester);
}

std::optional<Verdict> Authenticator::throttled(std::string_view network, const std::string& user,
                                                Clock::time_point now) {
  if (const auto wait = network.empty() ? std::nullopt : per_client_.wait(network, now)) {
    throttled_client_.fetch_add(1, std::memory_order_relaxed);
    return Verdict{Outcome::Throttled,
                   "too many failed logins from this client; try again in " + seconds_text(*wait),
                   *wait};
  }
  const auto wait = per_user_.wait(user, now);
  if (!wait) return std::nullopt;
  {
    std::lock_guard lock(good_mutex_);
    const auto good = good_networks_.find(user);
    if (good != good_networks_.end() &&
        std::find(good->second.begin(), good->second.end(), network) != good->second.end())
      return std::nullopt;
  }
  throttled_user_.fetch_add(1, std::memory_order_relaxed);
  return Verdict{
      Outcome::Throttled,
      "too many failed logins for user " + user + "; try again in " + seconds_text(*wait), *wait};
}

void Authenticator::note(std::string_view network, const std::string& user, bool known, bool ok,
                         Clock::time_point now) {
  if (!ok) {
    if (!network.empty()) per_client_.failed(network, now);
    // Names that are not users are the client's failures only: counting
    // them per name would only fill the table with guesses.
    if (known) per_user_.failed(user, now);
    return;
  }
  per_client_.succeeded(network);
  std::lock_guard lock(good_mutex_);
  if (good_networks_.size() >= kMaxGoodUsers && !good_networks_.contains(user))
    good_networks_.clear();
  auto& networks = good_networks_[user];
  const auto it = std::find(networks.begin(), networks.end(), network);
  if (it != networks.end()) networks.erase(it);
  if (networks.size() >= kGoodNetworksPerUser) networks.erase(networks.begin());
  networks.emplace_back(network);
}

asio::awaitable<Verdict> Authenticator::check_password(int thread, std::string user,
                                                       std::string password, Requester requester) {
  // Held to the end of the check: a reload meanwhile frees nothing in use.
  const std::shared_ptr<const Users> users = users_.load();
  auto& cache = caches_[static_cast<std::size_t>(thread) % caches_.size()];
  const std::string key = digest(user + '\0' + password);
  const auto now = Clock::now();
  if (const auto it = cache.find(key); it != cache.end()) {
    if (it->second.until > now && it->second.generation == users->generation)
      co_return Verdict{Outcome::Ok};
    cache.erase(it);
  }
  if (auto refused = throttled(requester.network, user, now)) co_return std::move(*refused);

  const auto found = users->entries.find(user);
  const PasswordHash& stored = found == users->entries.end() ? users->decoy : found->second;
  const bool known = found != users->entries.end();
  // The work holds `users` too: it may outlive this check (the pool runs it
  // for nobody once the caller has stopped waiting, or not at all).
  // A named local, not a temporary: GCC 12 destroys temporaries of a
  // co_await expression wrongly (a double free was seen here).
  std::function<bool()> work = [users, &stored, password] {
    return verify_password(stored, password);
  };
  const Lane lane = per_client_.has_failed(requester.network) ? Lane::Later : Lane::First;
  const HashingResult hashed = co_await pool_.run(std::move(work), requester, lane);
  switch (hashed.outcome) {
    case Hashed::Done:
      break;
    case Hashed::Busy:
      co_return Verdict{Outcome::Throttled, "the password checks are busy; try again shortly",
                        std::chrono::milliseconds(0)};
    case Hashed::ClientBusy:
      co_return Verdict{Outcome::Throttled,
                        "this client has too many password checks waiting; try again shortly",
                        std::chrono::milliseconds(0)};
    case Hashed::Abandoned:
      co_return Verdict{Outcome::Abandoned};
  }
  const bool ok = known && hashed.value;
  note(requester.network, user, known, ok, Clock::now());
  if (!ok) co_return Verdict{Outcome::Invalid};
  if (cache.size() >= kMaxRemembered) cache.clear();
  cache.insert_or_assign(key, Remembered{users->generation, now + kRemember});
  co_return Verdict{Outcome::Ok};
}

}  // namespace chokepoint::auth
