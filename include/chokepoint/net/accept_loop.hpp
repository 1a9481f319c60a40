// Accepting connections on a listening socket, with the one answer to an
// accept the kernel refuses (out of descriptors, or of memory): the
// connection stays in the listen queue, so trying again at once would spin
// on it; the next try waits kAcceptBackoff. The proxy's listeners and the
// admin endpoint both accept through this loop.
//
// A wake-up takes what is queued, up to kAcceptsPerTurn before the loop
// lets the thread's other work run, with accept4 (net/owned_socket.hpp),
// so that Asio neither makes an accepted socket non-blocking nor takes it
// out of epoll before closing it.
#pragma once

#include <chrono>
#include <functional>

#include <chokepoint/core/asio.hpp>

namespace chokepoint::net {

inline constexpr std::chrono::milliseconds kAcceptBackoff{100};
inline constexpr int kAcceptsPerTurn = 16;

class AcceptLoop {
 public:
  // A connection, and the address it came from (filled by the accept
  // itself: no getpeername per connection).
  using Accepted = std::function<void(tcp::socket socket, const tcp::endpoint& peer)>;
  // An accept the kernel refused with `ec`. Returns true when the caller
  // dealt with it so that accepting again at once makes sense (the admin
  // endpoint's spare descriptor), false to wait kAcceptBackoff first.
  using Refused = std::function<bool(const error_code& ec)>;

  // `acceptor` is listening and outlives the loop; the loop outlives its
  // pending operations (or the io_context running them).
  AcceptLoop(tcp::acceptor& acceptor, Accepted accepted, Refused refused);
  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;

  // Accepts until the acceptor is closed, on the acceptor's executor (close
  // it there, and the loop ends).
  void start();

 private:
  void wait_for_connections();
  void accept_queued();
  void on_refused(const error_code& ec);

  tcp::acceptor& acceptor_;
  Accepted accepted_;
  Refused refused_;
  asio::steady_timer backoff_;
};

}  // namespace chokepoint::net
