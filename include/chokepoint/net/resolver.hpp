// Asynchronous name resolution with a deadline.
//
// Asio's resolver runs every lookup of an io_context on one private thread,
// one after another, so a single slow name would hold up the lookups of
// every other connection of that thread. Lookups run on a small pool of
// their own instead, and the caller's deadline is enforced where it waits:
// a late answer is dropped.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/ip.hpp>

namespace chokepoint::net {

enum class ResolveError : std::uint8_t { None, NotFound, Timeout, Failed };

struct ResolveResult {
  ResolveError error = ResolveError::None;
  std::string detail;                // gai_strerror text on failure
  std::vector<IpAddress> addresses;  // A and AAAA answers, in resolver order
};

class Resolver {
 public:
  explicit Resolver(int threads = 4) : pool_(static_cast<std::size_t>(threads)) {}
  ~Resolver() { stop(); }
  void stop() {
    pool_.stop();
    pool_.join();
  }

  // Resolves `name` (A and AAAA); completes on the caller's executor.
  asio::awaitable<ResolveResult> resolve(std::string name, std::chrono::milliseconds timeout);

 private:
  asio::thread_pool pool_;
};

}  // namespace chokepoint::net
