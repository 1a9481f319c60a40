// One deadline over several operations on a socket (a whole request head,
// a whole ClientHello; the manager client's connect and handshake, or a
// request and its answer) that cancels the pending operation when it passes
// but keeps the socket open, so the proxy can still answer its client.
//
// A late expiry of an earlier arming never counts: each arming has its own
// generation, and only the current one may fire.
#pragma once

#include <cstdint>
#include <memory>

#include <chokepoint/core/asio.hpp>

namespace chokepoint {

class Deadline {
 public:
  explicit Deadline(const asio::any_io_executor& executor) : timer_(executor) {}

  // After `after`, cancels `socket`'s pending operations and marks expired().
  // `owner` keeps the object holding this deadline and the socket alive.
  void arm(std::chrono::milliseconds after, tcp::socket& socket,
           std::shared_ptr<const void> owner) {
    const std::uint64_t generation = ++generation_;
    expired_ = false;
    timer_.expires_after(after);
    timer_.async_wait([this, &socket, generation, owner = std::move(owner)](const error_code& ec) {
      if (ec || generation != generation_) return;
      expired_ = true;
      error_code ignored;
      socket.cancel(ignored);
    });
  }
  void disarm() {
    ++generation_;
    timer_.cancel();
  }
  bool expired() const { return expired_; }

 private:
  asio::steady_timer timer_;
  std::uint64_t generation_ = 0;
  bool expired_ = false;
};

}  // namespace chokepoint
