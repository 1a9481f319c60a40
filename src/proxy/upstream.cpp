#include "upstream.hpp"

#include <chokepoint/proxy/options.hpp>

#include "parent_proxy.hpp"

namespace chokepoint::proxy {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ms_since(Clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
}

bool plan_contains(const net::DialPlan& plan, const tcp::endpoint& original) {
  const IpAddress wanted = net::to_ip(original.address()).unmapped();
  if (original.port() != plan.port) return false;
  for (const auto& address : plan.addresses) {
    if (address.unmapped() == wanted) return true;
  }
  return false;
}

bool cancelled(Requester requester) {
  return requester.cancellation && requester.cancellation->requested();
}

// The planned addresses dialled into `d`; `what` names the far end in details.
asio::awaitable<void> dial_planned(net::Dialer& dialer, const net::DialPlan& plan,
                                   std::string_view what, Requester requester, Dialled& d) {
  d.dns_ms = plan.dns_ms;
  d.dns = plan.dns;
  if (cancelled(requester)) {
    d.failure = audit::Reason::Shutdown;
    co_return;
  }
  if (plan.error != net::DialError::None) {
    d.failure = dial_failure(plan.error);
    d.detail = std::string(what) + plan.detail;
    co_return;
  }
  const auto started = Clock::now();
  net::DialResult result = co_await dialer.connect(plan, requester.cancellation);
  d.connect_ms = ms_since(started);
  if (cancelled(requester)) {
    d.failure = audit::Reason::Shutdown;
  } else if (result.error != net::DialError::None) {
    d.failure = dial_failure(result.error);
    d.detail = std::string(what) + result.detail;
  } else {
    d.upstream = net::format_endpoint(result.endpoint);
    d.socket = std::move(result.socket);
  }
}

asio::awaitable<Dialled> connect_direct(net::Dialer& dialer, const UpstreamRequest& request,
                                        Requester requester) {
  Dialled d;
  // Two pointers: small enough for std::function to hold without allocating.
  // Both outlive the call (the session awaiting it owns them).
  const net::AddressVetter vet = [s = &request.snapshot, id = &request.identity](
                                     const IpAddress& address, std::uint16_t to_port) {
    return s->allows_address(address, to_port, *id);
  };
  net::DialPlan plan = co_await dialer.plan(request.host, request.port, vet, requester);
  if (plan.error == net::DialError::None && request.must_resolve_to &&
      !plan_contains(plan, *request.must_resolve_to)) {
    // The client went to an address the name it gave does not resolve to.
    d.dns_ms = plan.dns_ms;
    d.dns = plan.dns;
    d.failure = audit::Reason::OriginalDestinationMismatch;
    d.detail = request.host.name + " does not resolve to the original destination " +
               net::format_endpoint(*request.must_resolve_to);
    co_return d;
  }
  co_await dial_planned(dialer, plan, {}, requester, d);
  d.addresses = std::move(plan.addresses);
  co_return d;
}

asio::awaitable<Dialled> connect_parent(net::Dialer& dialer, const ProxyOptions& options,
                                        const UpstreamRequest& request, Requester requester) {
  const UpstreamProxy& parent = *request.parent;
  Dialled d;
  d.upstream_proxy = parent.to_string();
  if (auto refused =
          refused_literal(request.host, request.port, request.snapshot, request.identity)) {
    d.failure = audit::Reason::ForbiddenAddress;
    d.detail = std::move(*refused);
    co_return d;
  }
  const net::DialPlan plan = co_await dialer.plan_named(parent.host, parent.port, requester);
  co_await dial_planned(dialer, plan, "the upstream proxy " + parent.to_string() + ": ", requester,
                        d);
  if (d.failure != audit::Reason::None || !request.tunnel) co_return d;
  const auto asked = Clock::now();
  // Asking is the last wait of the dial: the proxy stopping closes the socket.
  Cancellation::Registration closes(requester.cancellation, [socket = &*d.socket] {
    error_code ignored;
    socket->close(ignored);
  });
  ParentAnswer answer = co_await ask_parent(*d.socket, parent, request.host, request.port,
                                            options.connect_timeout, options.max_header_bytes);
  d.connect_ms += ms_since(asked);
  d.upstream_proxy_status = answer.status;
  d.failure = cancelled(requester) ? audit::Reason::Shutdown : answer.failure;
  d.detail = std::move(answer.detail);
  d.early = std::move(answer.early);
  co_return d;
}

}  // namespace

asio::awaitable<Dialled> connect_upstream(net::Dialer& dialer, const ProxyOptions& options,
                                          const UpstreamRequest& request, Requester requester) {
  if (request.parent) co_return co_await connect_parent(dialer, options, request, requester);
  co_return co_await connect_direct(dialer, request, requester);
}

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

void note_upstream(audit::Record& record, const Dialled& dialled) {
  record.dns_ms = dialled.dns_ms;
  if (dialled.dns) record.dns = std::string(net::to_string(*dialled.dns));
  record.connect_ms = dialled.connect_ms;
  record.upstream = dialled.upstream;
  if (!dialled.upstream_proxy.empty()) record.upstream_proxy = dialled.upstream_proxy;
  if (dialled.upstream_proxy_status != 0)
    record.upstream_proxy_status = dialled.upstream_proxy_status;
}

}  // namespace chokepoint::proxy
