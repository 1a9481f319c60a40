// How many wrong passwords a key (a client's network, a user name) may send
// before it must wait: the first `free_failures` cost nothing but the check,
// each one after them makes the key wait twice as long as the last (from
// `first_backoff` up to `max_backoff`), and a success, or `forget_after`
// without a failure, starts the key afresh. A key that must wait is refused
// without a check: guessing costs the guesser time, not the proxy CPU.
//
// Bounded: at most `max_keys` keys are remembered; past that, keys that are
// not waiting are forgotten first, and a new key finds no room only while
// every remembered key is waiting (then it is not tracked, and the hashing
// queue's per-client share still bounds what it costs).
//
// Thread safety: every member may be called from any thread (one lock; a
// check it guards costs a quarter of a second of hashing).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chokepoint::auth {

struct BudgetOptions {
  std::size_t free_failures = 5;
  std::chrono::milliseconds first_backoff{1'000};
  std::chrono::milliseconds max_backoff{300'000};
  std::chrono::milliseconds forget_after{900'000};
  std::size_t max_keys = 65'536;
};

class FailureBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit FailureBudget(BudgetOptions options) : options_(options) {}

  // Nothing when `key` may be checked now; else how long it must wait.
  std::optional<std::chrono::milliseconds> wait(std::string_view key, Clock::time_point now);
  // A check for `key` failed / succeeded.
  void failed(std::string_view key, Clock::time_point now);
  void succeeded(std::string_view key);
  // Whether `key` failed a check it has not yet been forgiven for.
  bool has_failed(std::string_view key) const;
  std::size_t size() const;

 private:
  struct Entry {
    std::size_t failures = 0;
    Clock::time_point last_failure{};
    Clock::time_point until{};  // must wait until then
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Forgets what has nothing left to say; false when there is still no room.
  bool make_room(Clock::time_point now);

  BudgetOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

}  // namespace chokepoint::auth
