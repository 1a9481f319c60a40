#include "parent_proxy.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/http/connect_response.hpp>
#include <chokepoint/net/address_class.hpp>
#include <chokepoint/proxy/options.hpp>

namespace chokepoint::proxy {
namespace {

using audit::Reason;

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

asio::awaitable<ParentAnswer> ask_parent(tcp::socket& socket, const UpstreamProxy& parent,
                                         const Host& host, std::uint16_t port,
                                         std::chrono::milliseconds timeout,
                                         std::size_t max_head_bytes) {
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

  // The socket lives in the caller's frame, as this deadline does.
  Deadline deadline(socket.get_executor());
  deadline.arm(timeout, socket, nullptr);
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
