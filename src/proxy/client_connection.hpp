// Private to the proxy module: the client's side of a connection while its
// session reads from it. Every byte read and not yet consumed by a parser
// stays in `buffer`, so a later stage (the next request head, the tunnel's
// early data) sees it in order; one deadline bounds a whole head or hello.
#pragma once

#include <memory>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>

#include <chokepoint/core/asio.hpp>

#include "deadline.hpp"

namespace chokepoint::proxy {

struct ClientConnection {
  explicit ClientConnection(tcp::socket s)
      : socket(std::move(s)), deadline(socket.get_executor()) {}

  // Bytes read and not yet consumed.
  std::string_view unread() const {
    return {static_cast<const char*>(buffer.data().data()), buffer.size()};
  }
  // Reads what has arrived (at most one chunk) into the end of `buffer`;
  // the caller commits what was read:
  //   const std::size_t n = client.commit(co_await client.read_some(ec));
  // (An operation, not a coroutine of its own: no frame per read.)
  auto read_some(error_code& ec) {
    return socket.async_read_some(buffer.prepare(kReadChunk), await_into(ec));
  }
  std::size_t commit(std::size_t n) {
    buffer.commit(n);
    return n;
  }

  // Bounds what follows (a whole head, a whole hello) by `after`.
  void arm(std::chrono::milliseconds after) { deadline.arm(after, socket, owner.lock()); }
  void disarm() { deadline.disarm(); }

  static constexpr std::size_t kReadChunk = 4096;

  tcp::socket socket;
  boost::beast::flat_buffer buffer;
  Deadline deadline;
  // What keeps the socket alive while a deadline is armed: the session.
  std::weak_ptr<const void> owner;
};

}  // namespace chokepoint::proxy
