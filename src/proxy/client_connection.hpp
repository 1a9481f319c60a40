// Private to the proxy module: the client's side of a connection while its
// session reads from it. Every byte read and not yet consumed by a parser
// stays in `buffer`, so a later stage (the next request head, the tunnel's
// early data) sees it in order; one deadline bounds a whole head or hello.
// The client's first few bytes are also kept aside, however far the
// parsers got, so the session can tell afterwards whether the client began
// with a PROXY header of its own (proxy_header_stage.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <memory>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/deadline.hpp>

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
    if (first_size_ < first_.size()) keep_first(unread().substr(buffer.size() - n));
    return n;
  }

  // The client's own first bytes: at most kFirstBytes, enough for
  // proxy_protocol::detect().
  std::string_view first_bytes() const { return {first_.data(), first_size_}; }
  // What was read so far was a balancer's PROXY header: the client's own
  // bytes begin with what is unread.
  void restart_first_bytes() {
    first_size_ = 0;
    keep_first(unread());
  }

  // Bounds what follows (a whole head, a whole hello) by `after`.
  void arm(std::chrono::milliseconds after) { deadline.arm(after, socket, owner.lock()); }
  void disarm() { deadline.disarm(); }

  // Sends `bytes` (an answer) within `timeout`.
  asio::awaitable<error_code> write(std::string_view bytes, std::chrono::milliseconds timeout);
  // Before the close that follows an answer: closing with unread bytes in
  // the receive buffer makes the kernel send a reset, which can destroy the
  // answer before the client reads it. With `linger`, sends our FIN, then
  // reads and drops what the client still sends, within bounds, until its
  // FIN; without (a refusal that must cost nothing), drops only what
  // already arrived.
  asio::awaitable<void> drain_before_close(bool linger);

  static constexpr std::size_t kReadChunk = 4096;
  static constexpr std::size_t kFirstBytes = 12;

  tcp::socket socket;
  boost::beast::flat_buffer buffer;
  Deadline deadline;
  // What keeps the socket alive while a deadline is armed: the session.
  std::weak_ptr<const void> owner;

 private:
  void keep_first(std::string_view bytes) {
    const std::size_t n = std::min(bytes.size(), first_.size() - first_size_);
    std::copy_n(bytes.data(), n, first_.data() + first_size_);
    first_size_ += n;
  }

  std::array<char, kFirstBytes> first_{};
  std::size_t first_size_ = 0;
};

}  // namespace chokepoint::proxy
