#include "dial.hpp"

#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {
namespace {

using Clock = std::chrono::steady_clock;

bool plan_contains(const net::DialPlan& plan, const tcp::endpoint& original) {
  const IpAddress wanted = net::to_ip(original.address()).unmapped();
  if (original.port() != plan.port) return false;
  for (const auto& address : plan.addresses) {
    if (address.unmapped() == wanted) return true;
  }
  return false;
}

}  // namespace

audit::Reason dial_failure(net::DialError error) {
  switch (error) {
    case net::DialError::None:
      return audit::Reason::None;
    case net::DialError::NotFound:
      return audit::Reason::DnsNotFound;
    case net::DialError::DnsTimeout:
      return audit::Reason::DnsTimeout;
    case net::DialError::DnsFailed:
      return audit::Reason::DnsError;
    case net::DialError::Forbidden:
      return audit::Reason::ForbiddenAddress;
    case net::DialError::Refused:
      return audit::Reason::ConnectRefused;
    case net::DialError::Timeout:
      return audit::Reason::ConnectTimeout;
    case net::DialError::Unreachable:
      return audit::Reason::Unreachable;
    case net::DialError::Failed:
      return audit::Reason::ConnectFailed;
  }
  return audit::Reason::ConnectFailed;
}

asio::awaitable<Dialled> dial(Worker& worker, const Host& host, std::uint16_t port,
                              const policy::Snapshot& snapshot,
                              const policy::ClientIdentity& identity,
                              const tcp::endpoint* must_resolve_to, Requester requester) {
  Dialled d;
  const auto cancelled = [&] {
    return requester.cancellation && requester.cancellation->requested();
  };
  // Two pointers: small enough for std::function to hold without allocating.
  // Both outlive the call (the session awaiting it owns them).
  const net::AddressVetter vet = [s = &snapshot, id = &identity](const IpAddress& address,
                                                                 std::uint16_t to_port) {
    return s->allows_address(address, to_port, *id);
  };
  const net::DialPlan plan = co_await worker.dialer().plan(host, port, vet, requester);
  d.dns_ms = plan.dns_ms;
  d.dns = plan.dns;
  if (cancelled()) {
    d.failure = audit::Reason::Shutdown;
    co_return d;
  }
  if (plan.error != net::DialError::None) {
    d.failure = dial_failure(plan.error);
    d.detail = plan.detail;
    co_return d;
  }
  if (must_resolve_to && !plan_contains(plan, *must_resolve_to)) {
    // The client went to an address the name it gave does not resolve to.
    d.failure = audit::Reason::OriginalDestinationMismatch;
    d.detail = host.name + " does not resolve to the original destination " +
               net::format_endpoint(*must_resolve_to);
    co_return d;
  }
  const auto started = Clock::now();
  net::DialResult result = co_await worker.dialer().connect(plan, requester.cancellation);
  d.connect_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  if (cancelled()) {
    d.failure = audit::Reason::Shutdown;
    co_return d;
  }
  if (result.error != net::DialError::None) {
    d.failure = dial_failure(result.error);
    d.detail = result.detail;
    co_return d;
  }
  d.upstream = net::format_endpoint(result.endpoint);
  d.socket = std::move(result.socket);
  co_return d;
}

}  // namespace chokepoint::proxy
