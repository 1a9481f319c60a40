#include <chokepoint/net/original_dst.hpp>

// The netfilter headers need the libc socket types first (and after Asio's
// <net/if.h>, which makes <linux/if.h> stand down).
// clang-format off
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
// clang-format on

#include <cstring>

namespace chokepoint::net {

std::optional<tcp::endpoint> original_destination(tcp::socket& socket, Interception how,
                                                  error_code& ec) {
  if (how == Interception::Tproxy) {
    const auto local = socket.local_endpoint(ec);
    if (ec) return std::nullopt;
    return local;
  }
  const int fd = socket.native_handle();
  const auto local = socket.local_endpoint(ec);
  if (ec) return std::nullopt;
  if (local.address().is_v4() || local.address().to_v6().is_v4_mapped()) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &address, &length) != 0) {
      ec.assign(errno, boost::system::system_category());
      return std::nullopt;
    }
    return tcp::endpoint(asio::ip::address_v4(ntohl(address.sin_addr.s_addr)),
                         ntohs(address.sin_port));
  }
  sockaddr_in6 address{};
  socklen_t length = sizeof address;
  if (::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &address, &length) != 0) {
    ec.assign(errno, boost::system::system_category());
    return std::nullopt;
  }
  asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), &address.sin6_addr, bytes.size());
  return tcp::endpoint(asio::ip::address_v6(bytes), ntohs(address.sin6_port));
}

void set_transparent(tcp::acceptor& acceptor, bool v6, error_code& ec) {
  const int on = 1;
  const int level = v6 ? SOL_IPV6 : SOL_IP;
  const int name = v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT;
  if (::setsockopt(acceptor.native_handle(), level, name, &on, sizeof on) != 0) {
    ec.assign(errno, boost::system::system_category());
  }
}

}  // namespace chokepoint::net
