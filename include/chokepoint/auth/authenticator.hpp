// Proxy authentication (RFC 7617 Basic over Proxy-Authorization, and
// SOCKS5's RFC 1929 username/password) against the users file.
//
// Password hashing is slow on purpose, so it never runs on an I/O thread:
// it runs on the hashing pool (hashing_pool.hpp), whose bounded queue gives
// each client only a share. A credential that verified is remembered for a
// few minutes by the thread that saw it (a hash of it, never the password),
// so an agent reconnecting every few seconds pays the hash once. Unknown
// users cost the same hash as known ones, so timing does not reveal names.
//
// Guessing is bounded per client (its network, client_network.hpp) and per
// user name (failure_budget.hpp): past a few failures a client must wait,
// longer after each further one, and is refused meanwhile without a check;
// a user name guessed at from many clients must wait too, except from the
// networks it last logged in from, so guessing a name never locks out the
// agents that use it.
//
// The users can be replaced while the proxy runs (a reload): checks that
// started keep the users they started with, later ones see the new set, and
// every remembered credential is forgotten, so a removed user or a changed
// password takes effect at once.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <chokepoint/auth/failure_budget.hpp>
#include <chokepoint/auth/hashing_pool.hpp>
#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/cancellation.hpp>

namespace chokepoint::auth {

enum class Outcome : std::uint8_t {
  Ok,
  Missing,    // no credentials
  Malformed,  // not Basic, not base64, no colon
  Invalid,    // checked, and wrong
  Throttled,  // refused unchecked: the client or the name must wait, or the queue is full
  Abandoned,  // the requester stopped waiting (its client hung up, the proxy is stopping)
};

struct Verdict {
  Verdict() = default;
  explicit Verdict(Outcome o, std::string why = {}, std::chrono::milliseconds wait = {})
      : outcome(o), detail(std::move(why)), retry_after(wait) {}

  Outcome outcome = Outcome::Missing;
  // Throttled: why, for the record, and how long to wait (0: just busy).
  std::string detail;
  std::chrono::milliseconds retry_after{0};
};

struct AuthOptions {
  int threads = 1;  // I/O threads that will call check(), each with its cache
  HashingOptions hashing;
  BudgetOptions per_client;
  BudgetOptions per_user{20};
};

// The counters behind the metrics.
struct AuthStats {
  std::uint64_t throttled_client = 0;  // refused: the client must wait
  std::uint64_t throttled_user = 0;    // refused: the user name must wait
  HashingStats hashing;
};

class Authenticator {
 public:
  Authenticator(std::map<std::string, PasswordHash> users, AuthOptions options);
  ~Authenticator();

  // Swaps in a new set of users; safe while other threads check.
  void replace_users(std::map<std::string, PasswordHash> users);

  // Checks a Proxy-Authorization value (empty when the header is absent).
  // Sets `user` to the name the client gave (for the record), even when it fails.
  asio::awaitable<Verdict> check(int thread, std::string_view header, std::string& user,
                                 Requester requester);
  // Checks a name and password given as they are (SOCKS5's RFC 1929 sub-negotiation).
  asio::awaitable<Verdict> check_password(int thread, std::string user, std::string password,
                                          Requester requester);

  // Drops every queued check and waits for the running ones (before the
  // I/O threads' io_contexts go: see hashing_pool.hpp).
  void stop() { pool_.stop(); }
  AuthStats stats() const;

 private:
  struct Users {
    std::map<std::string, PasswordHash> entries;
    PasswordHash decoy;  // verified against for unknown users
    std::uint64_t generation = 0;
  };
  struct Remembered {
    std::uint64_t generation;  // of the users it was verified against
    std::chrono::steady_clock::time_point until;
  };
  static std::shared_ptr<const Users> make_users(std::map<std::string, PasswordHash> entries,
                                                 std::uint64_t generation);
  // Whether `network` may try `user` now; a Throttled verdict when not.
  std::optional<Verdict> throttled(std::string_view network, const std::string& user,
                                   std::chrono::steady_clock::time_point now);
  void note(std::string_view network, const std::string& user, bool known, bool ok,
            std::chrono::steady_clock::time_point now);

  std::atomic<std::shared_ptr<const Users>> users_;
  std::vector<std::unordered_map<std::string, Remembered>> caches_;
  FailureBudget per_client_;
  FailureBudget per_user_;
  // Where each user last logged in from: those networks are not held up by
  // the user name's budget (bounded: a few networks per user).
  std::mutex good_mutex_;
  std::unordered_map<std::string, std::vector<std::string>> good_networks_;
  std::atomic<std::uint64_t> throttled_client_{0};
  std::atomic<std::uint64_t> throttled_user_{0};
  HashingPool pool_;  // last: its threads stop first
};

}  // namespace chokepoint::auth
