#include <cstring>
#include <memory>
#include <netdb.h>
#include <sys/socket.h>

#include <chokepoint/core/offload.hpp>
#include <chokepoint/net/resolver.hpp>

namespace chokepoint::net {
namespace {

ResolveResult blocking_resolve(const std::string& name) {
  ResolveResult result;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // Only families this host can use (no AAAA attempts without IPv6).
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    result.error =
        (rc == EAI_NONAME || rc == EAI_NODATA) ? ResolveError::NotFound : ResolveError::Failed;
    result.detail = ::gai_strerror(rc);
    return result;
  }
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      result.addresses.push_back(IpAddress::v4(ntohl(sin->sin_addr.s_addr)));
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      std::array<std::uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), &sin6->sin6_addr, 16);
      result.addresses.push_back(IpAddress::v6(bytes));
    }
  }
  ::freeaddrinfo(list);
  if (result.addresses.empty()) {
    result.error = ResolveError::NotFound;
    result.detail = "no addresses";
  }
  return result;
}

}  // namespace

asio::awaitable<ResolveResult> Resolver::resolve(std::string name,
                                                 std::chrono::milliseconds timeout) {
  // A named local, not a temporary: GCC 12 destroys temporaries of a
  // co_await expression wrongly (see authenticator.cpp).
  auto work = [name = std::move(name)] { return blocking_resolve(name); };
  auto result = co_await offload(pool_, std::move(work), timeout);
  if (result) co_return std::move(*result);
  ResolveResult timed_out;
  timed_out.error = ResolveError::Timeout;
  timed_out.detail = "no answer within " + std::to_string(timeout.count()) + " ms";
  co_return timed_out;
}

}  // namespace chokepoint::net
