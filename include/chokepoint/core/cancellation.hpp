// Ending a connection's current wait from outside: the proxy is stopping, or
// the client hung up while its password was being checked.
//
// Asio 1.74 has no cancellation slots, so a wait that must end early (a name
// lookup, a queued password check, a connect race) registers what ends it (a
// timer to cancel, an event to set) for as long as it waits, and request()
// runs that at once. Waits that are socket operations need none of this:
// closing the socket ends them. One thread only: the connection's.
#pragma once

#include <functional>
#include <string_view>
#include <utility>

namespace chokepoint {

class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  bool requested() const { return requested_; }
  // Ends the registered wait, if any; every later wait ends at once.
  void request() {
    if (requested_) return;
    requested_ = true;
    if (on_request_) std::exchange(on_request_, nullptr)();
  }

  // While it lives, request() calls `end_wait` (once). A wait registers
  // before it suspends and checks requested() first: a request that came
  // earlier calls nothing. Registrations nest as the waits of a coroutine
  // do (a stage's wait inside a wider one): the innermost is the wait in
  // progress, and ending it, the one request() calls; leaving it brings the
  // wider one back.
  class Registration {
   public:
    Registration(Cancellation* cancellation, std::function<void()> end_wait)
        : cancellation_(cancellation) {
      if (cancellation_) wider_ = std::exchange(cancellation_->on_request_, std::move(end_wait));
    }
    ~Registration() {
      if (cancellation_) cancellation_->on_request_ = std::move(wider_);
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    Cancellation* cancellation_;
    std::function<void()> wider_;
  };

 private:
  bool requested_ = false;
  std::function<void()> on_request_;
};

// On whose behalf slow shared work is done (a password check, a name
// lookup): the client's network, whose share of the shared queues the work
// counts against, and what ends the wait when the connection is torn down.
struct Requester {
  std::string_view network;  // client_key() of the client; empty: nobody's share
  Cancellation* cancellation = nullptr;
};

}  // namespace chokepoint
