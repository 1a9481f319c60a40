#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/version.hpp>

#include <chokepoint/net/owned_socket.hpp>

namespace chokepoint::net {
namespace {

error_code last_error() {
  return error_code(errno, boost::system::system_category());
}

#if BOOST_VERSION == 107400 && defined(BOOST_ASIO_HAS_EPOLL)
// Reaches basic_socket's protected implementation, where the reactive
// socket service keeps its flags (asio/detail/socket_ops.hpp).
struct StateAccess : tcp::socket {
  static asio::detail::socket_ops::state_type& state(tcp::socket& socket) {
    return (socket.*&StateAccess::impl_).get_implementation().state_;
  }
};

void mark_owned(tcp::socket& socket) {
  auto& state = StateAccess::state(socket);
  state |= asio::detail::socket_ops::internal_non_blocking;
  state &=
      static_cast<asio::detail::socket_ops::state_type>(~asio::detail::socket_ops::possible_dup);
}
#else
void mark_owned(tcp::socket& socket) {
  error_code ignored;
  socket.native_non_blocking(true, ignored);
}
#endif

error_code adopt(tcp::socket& socket, const tcp& protocol, int descriptor) {
  error_code ec;
  socket.assign(protocol, descriptor, ec);
  if (ec) {
    ::close(descriptor);
    return ec;
  }
  mark_owned(socket);
  return {};
}

}  // namespace

error_code accept_owned(tcp::acceptor& listener, tcp::socket& socket, tcp::endpoint& peer) {
  for (;;) {
    socklen_t length = static_cast<socklen_t>(peer.capacity());
    const int descriptor =
        ::accept4(listener.native_handle(), peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (descriptor >= 0) {
      peer.resize(length);
      return adopt(socket, peer.protocol(), descriptor);
    }
    // Gone before it was taken (as Asio's own accept skips them).
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    return last_error();
  }
}

error_code open_owned(tcp::socket& socket, const tcp& protocol) {
  const int descriptor =
      ::socket(protocol.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol.protocol());
  if (descriptor < 0) return last_error();
  return adopt(socket, protocol, descriptor);
}

}  // namespace chokepoint::net
