// Proxy authentication (RFC 7617 Basic over Proxy-Authorization).
//
// Password hashing is slow on purpose, so it never runs on an I/O thread: a
// small pool of its own does it and the caller's coroutine resumes on its
// own thread. A credential that verified is remembered for a few minutes by
// the thread that saw it (a hash of the header value, never the password),
// so an agent reconnecting every few seconds pays the hash once. Unknown
// users cost the same hash as known ones, so timing does not reveal names.
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

#include <boost/asio/thread_pool.hpp>

#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/core/asio.hpp>

namespace chokepoint::auth {

enum class Outcome : std::uint8_t { Ok, Missing, Malformed, Invalid };

class Authenticator {
 public:
  // `threads`: the I/O threads that will call check(), each with its cache.
  Authenticator(std::map<std::string, PasswordHash> users, int threads);
  ~Authenticator();

  // Swaps in a new set of users; safe while other threads check.
  void replace_users(std::map<std::string, PasswordHash> users);

  // Checks a Proxy-Authorization value (empty when the header is absent).
  // Sets `user` to the name the client gave (for the record), even when it fails.
  asio::awaitable<Outcome> check(int thread, std::string_view header, std::string& user);
  // Checks a name and password given as they are (SOCKS5's RFC 1929
  // sub-negotiation): Ok or Invalid.
  asio::awaitable<Outcome> check_password(int thread, std::string user, std::string password);

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

  std::atomic<std::shared_ptr<const Users>> users_;
  std::vector<std::unordered_map<std::string, Remembered>> caches_;
  asio::thread_pool pool_{2};
};

}  // namespace chokepoint::auth
