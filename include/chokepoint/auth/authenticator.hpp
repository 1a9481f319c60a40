// Proxy authentication (RFC 7617 Basic over Proxy-Authorization).
//
// Password hashing is slow on purpose, so it never runs on an I/O thread: a
// small pool of its own does it and the caller's coroutine resumes on its
// own thread. A credential that verified is remembered for a few minutes by
// the thread that saw it (a hash of the header value, never the password),
// so an agent reconnecting every few seconds pays the hash once. Unknown
// users cost the same hash as known ones, so timing does not reveal names.
#pragma once

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

  // Checks a Proxy-Authorization value (empty when the header is absent).
  // Sets `user` to the name the client gave (for the record), even when it fails.
  asio::awaitable<Outcome> check(int thread, std::string_view header, std::string& user);

 private:
  struct Remembered {
    std::string user;
    std::chrono::steady_clock::time_point until;
  };
  std::map<std::string, PasswordHash> users_;
  PasswordHash decoy_;  // verified against for unknown users
  std::vector<std::unordered_map<std::string, Remembered>> caches_;
  asio::thread_pool pool_{2};
};

}  // namespace chokepoint::auth
