#include "client_connection.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>

namespace chokepoint::proxy {
namespace {

// Bounds of the lingering close after an HTTP error answer.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 1 << 20;

}  // namespace

asio::awaitable<error_code> ClientConnection::write(std::string_view bytes,
                                                    std::chrono::milliseconds timeout) {
  error_code ec;
  arm(timeout);
  co_await asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()), await_into(ec));
  disarm();
  co_return ec;
}

asio::awaitable<void> ClientConnection::drain_before_close(bool linger) {
  char sink[4096];
  if (!linger) {
    for (std::size_t drained = 0; drained < kLingerBytes;) {
      const ssize_t n = ::recv(socket.native_handle(), sink, sizeof sink, MSG_DONTWAIT);
      if (n <= 0) break;
      drained += static_cast<std::size_t>(n);
    }
    co_return;
  }
  error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  arm(kLingerTime);
  std::size_t drained = 0;
  while (!ec && drained < kLingerBytes && !deadline.expired()) {
    drained += co_await socket.async_read_some(asio::buffer(sink), await_into(ec));
  }
  disarm();
}

}  // namespace chokepoint::proxy
