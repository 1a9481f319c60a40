// An event a coroutine can wait for, with a deadline: "the tunnel ended",
// "an attempt of the connect race completed", "the pool's result arrived",
// "every worker answered".
//
// Asio 1.74 has no such primitive (no channels, no cancellation slots), so
// this is the timer idiom written once: the waiter sleeps on a timer that
// never expires by itself, and set() cancels the sleep. One thread only:
// set() and wait() run on the executor the event was made with.
#pragma once

#include <chrono>

#include <chokepoint/core/asio.hpp>

namespace chokepoint {

class AsyncEvent {
 public:
  explicit AsyncEvent(const asio::any_io_executor& executor) : timer_(executor) {}

  // Wakes the waiter, if any; a later wait() returns at once until reset().
  void set() {
    set_ = true;
    timer_.cancel();
  }
  void reset() { set_ = false; }
  bool is_set() const { return set_; }

  // Returns once set() was called (true) or `deadline` passed first (false).
  asio::awaitable<bool> wait_until(std::chrono::steady_clock::time_point deadline) {
    while (!set_ && std::chrono::steady_clock::now() < deadline) {
      timer_.expires_at(deadline);
      error_code ec;
      co_await timer_.async_wait(await_into(ec));
    }
    co_return set_;
  }
  asio::awaitable<bool> wait_for(std::chrono::steady_clock::duration timeout) {
    return wait_until(std::chrono::steady_clock::now() + timeout);
  }
  asio::awaitable<void> wait() {
    co_await wait_until(std::chrono::steady_clock::time_point::max());
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

}  // namespace chokepoint
