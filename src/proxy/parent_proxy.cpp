#include "parent_proxy.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/http/connect_response.hpp>
#include <chokepoint/net/address_class.hpp>
#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {
namespace {

using Clock = std::chrono::steady_clock;
using audit::Reason;

Reason resolve_failure(net::ResolveError error) {
  switch (error) {
    case net::ResolveError::NotFound:
      return Reason::DnsNotFound;
    case net::ResolveError::Timeout:
      return Reason::DnsTimeout;
    case net::ResolveError::None:
    case net::ResolveError::Failed:
      break;
  }
  return Reason::DnsError;
}

}  // namespace

const UpstreamProxy* parent_for(const policy::Rule* rule, const ProxyOptions& options) {
  if (rule && rule->upstream_direct) return nullptr;
  if (rule && rule->upstream_proxy) return &*rule->upstream_proxy;
  return options.upstream_proxy ? &*options.upstream_proxy : nullptr;
}

std::string parent_authorization(const UpstreamProxy& parent) {
  if (!parent.has_credentials()) return {};
  return "Basic " + auth::base64_encode(parent.user + ':' + parent.password);
}

std::optional<std::string> refused_literal(const Host& host, std::uint16_t port,
                                           const policy::Snapshot& snapshot,
                                           const policy::ClientIdentity& identity) {
  if (!host.is_ip()) return std::nullopt;
  const net::AddressClass cls = net::classify(host.address);
  if (net::is_public(cls) || snapshot.allows_address(host.address.unmapped(), port, identity))
    return std::nullopt;
  return host.name + " is a refused address (" + std::string(net::to_string(cls)) + ")";
}

asio::awaitable<Dialled> dial_parent(Worker& worker, const UpstreamProxy& parent, const Host& host,
                                     std::uint16_t port, const policy::Snapshot& snapshot,
                                     const policy::ClientIdentity& identity, Requester requester) {
  const auto cancelled = [&] {
    return requester.cancellation && requester.cancellation->requested();
  };
  Dialled d;
  if (auto refused = refused_literal(host, port, snapshot, identity)) {
    d.failure = Reason::ForbiddenAddress;
    d.detail = std::move(*refused);
    co_return d;
  }
  net::DialPlan plan;
  plan.port = parent.port;
  plan.operator_chosen = true;
  if (parent.host.is_ip()) {
    plan.addresses.push_back(parent.host.address);
  } else {
    const net::ResolveResult resolved =
        co_await worker.resolver().resolve(parent.host.name, requester);
    d.dns_ms = resolved.elapsed.count();
    d.dns = resolved.served;
    if (resolved.error != net::ResolveError::None) {
      d.failure = resolve_failure(resolved.error);
      d.detail = "the upstream proxy " + parent.to_string() + ": " + resolved.detail;
      co_return d;
    }
    const auto addresses = resolved.addresses();
    plan.addresses = net::interleave_families({addresses.begin(), addresses.end()});
  }
  if (cancelled()) {
    d.failure = Reason::Shutdown;
    co_return d;
  }
  const auto started = Clock::now();
  net::DialResult result = co_await worker.dialer().connect(plan, requester.cancellation);
  d.connect_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  if (cancelled()) {
    d.failure = Reason::Shutdown;
    co_return d;
  }
  if (result.error != net::DialError::None) {
    d.failure = dial_failure(result.error);
    d.detail = "the upstream proxy " + parent.to_string() + ": " + result.detail;
    co_return d;
  }
  d.upstream = net::format_endpoint(result.endpoint);
  d.socket = std::move(result.socket);
  co_return d;
}

asio::awaitable<ParentAnswer> ask_parent(tcp::socket& socket, const UpstreamProxy& parent,
                                         const Host& host, std::uint16_t port, Deadline& deadline,
                                         std::chrono::milliseconds timeout,
                                         std::size_t max_head_bytes,
                                         std::shared_ptr<const void> owner) {
  ParentAnswer answer;
  const std::string name = "the upstream proxy " + parent.to_string();
  // RFC 9110 9.3.6: the authority, and Host with the same; the name, never
  // an address of ours, so the parent resolves (and applies its own rules
  // to the name).
  const std::string authority = format_authority(host, port);
  std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (const std::string credentials = parent_authorization(parent); !credentials.empty())
    request += "Proxy-Authorization: " + credentials + "\r\n";
  request += "\r\n";

  deadline.arm(timeout, socket, std::move(owner));
  error_code ec;
  co_await asio::async_write(socket, asio::buffer(request), await_into(ec));
  if (ec) {
    deadline.disarm();
    answer.failure = deadline.expired() ? Reason::ConnectTimeout : Reason::UpstreamWriteFailed;
    answer.detail = name + ": " + ec.message();
    co_return answer;
  }
  http::ConnectResponseReader reader(max_head_bytes);
  boost::beast::flat_buffer received;
  while (reader.feed({static_cast<const char*>(received.data().data()), received.size()}) ==
         http::ConnectAnswer::NeedMore) {
    const std::size_t n = co_await socket.async_read_some(received.prepare(4096), await_into(ec));
    received.commit(n);
    if (ec) break;
  }
  deadline.disarm();
  answer.status = reader.status();
  switch (reader.answer()) {
    case http::ConnectAnswer::Established: {
      const std::string_view all(static_cast<const char*>(received.data().data()), received.size());
      answer.early = std::string(all.substr(reader.head_bytes()));
      co_return answer;
    }
    case http::ConnectAnswer::Refused:
      answer.failure = Reason::UpstreamProxyRefused;
      answer.detail = name + " answered " + std::to_string(reader.status()) + " " +
                      std::string(reader.reason());
      co_return answer;
    case http::ConnectAnswer::Malformed:
    case http::ConnectAnswer::TooLarge:
      answer.failure = Reason::UpstreamProxyFailed;
      answer.detail = name + ": " + std::string(reader.error());
      co_return answer;
    case http::ConnectAnswer::NeedMore:
      break;
  }
  if (deadline.expired()) {
    answer.failure = Reason::ConnectTimeout;
    answer.detail = name + " did not answer the CONNECT within the connect timeout";
  } else {
    answer.failure = Reason::UpstreamProxyFailed;
    answer.detail = name + " closed before answering the CONNECT: " + ec.message();
  }
  co_return answer;
}

}  // namespace chokepoint::proxy
