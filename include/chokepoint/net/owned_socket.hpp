// Sockets the data plane makes itself, made non-blocking and close-on-exec
// by the system call that creates them, and handed to Asio as sockets it
// need not second-guess.
//
// Asio, given a descriptor, spends two system calls per connection that
// nginx does not: an ioctl(FIONBIO) before its first operation (it keeps
// its own flag, and accept4's or socket's SOCK_NONBLOCK does not set it),
// and, for a descriptor it did not open itself (every accepted connection),
// an EPOLL_CTL_DEL before close, in case the descriptor was duplicated.
// These sockets are never duplicated, so close(2) alone takes them out of
// epoll. Telling Asio so means writing its per-socket state, which is not
// public: done for the Asio these builds use (Boost 1.74, Debian 12); any
// other Boost gets the same sockets with Asio's calls as before.
#pragma once

#include <chokepoint/core/asio.hpp>

namespace chokepoint::net {

// Takes one connection waiting on `listener` (non-blocking) into `socket`
// (closed beforehand), with the address it came from in `peer`. would_block when
// none is waiting; connections the client gave up on while queued are
// skipped. Any other error is the kernel's refusal (out of descriptors or
// of memory), and the connection stays queued.
error_code accept_owned(tcp::acceptor& listener, tcp::socket& socket, tcp::endpoint& peer);

// Opens `socket` (closed beforehand) for `protocol`.
error_code open_owned(tcp::socket& socket, const tcp& protocol);

}  // namespace chokepoint::net
