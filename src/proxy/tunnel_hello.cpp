#include "tunnel_hello.hpp"

#include <chokepoint/proxy/options.hpp>

namespace chokepoint::proxy {

std::optional<HelloRefusal> ech_refusal(const tls::ClientHelloInfo& hello,
                                        const policy::Snapshot& snapshot) {
  if (!hello.ech || snapshot.policy().ech != policy::EchPolicy::Deny) return std::nullopt;
  return HelloRefusal{audit::Reason::EchRefused,
                      "the ClientHello offers Encrypted Client Hello and tls.ech is deny"};
}

asio::awaitable<TunnelHello> read_tunnel_hello(ClientConnection& client, tcp::socket& upstream,
                                               bool& server_spoke, const Host& target,
                                               std::uint16_t port, const policy::Snapshot& snapshot,
                                               const policy::ClientIdentity& identity,
                                               const ProxyOptions& options) {
  tls::ClientHelloParser parser(options.peek_bytes);
  parser.feed(client.unread());

  // TLS clients speak first: if the server does, this is not a TLS client
  // and there is nothing to check.
  server_spoke = false;
  upstream.async_wait(tcp::socket::wait_read, [owner = client.owner.lock(), &server_spoke,
                                               &socket = client.socket](const error_code& ec) {
    if (ec) return;
    server_spoke = true;
    error_code ignored;
    socket.cancel(ignored);
  });
  // A silent tunnel is idle: the idle timeout bounds this wait too.
  client.arm(std::min(options.peek_timeout, options.idle_timeout));
  error_code ec;
  while (parser.status() == tls::HelloStatus::NeedMore && !server_spoke &&
         !client.deadline.expired() && !ec) {
    const std::size_t n = client.commit(co_await client.read_some(ec));
    const std::string_view all = client.unread();
    parser.feed(all.substr(all.size() - n));
  }
  client.disarm();
  error_code ignored;
  upstream.cancel(ignored);

  TunnelHello out;
  const tls::HelloStatus status = parser.status();
  out.alert = status != tls::HelloStatus::NeedMore;
  if (status == tls::HelloStatus::Malformed || status == tls::HelloStatus::TooLarge) {
    out.refusal =
        HelloRefusal{status == tls::HelloStatus::Malformed ? audit::Reason::MalformedClientHello
                                                           : audit::Reason::ClientHelloTooLarge,
                     std::string(parser.error())};
  } else if (status == tls::HelloStatus::NeedMore && client.deadline.expired() &&
             client.buffer.size() > 0) {
    // Part of a hello, then nothing: a slow client holding a slot.
    out.refusal = HelloRefusal{audit::Reason::PeekTimeout,
                               "the ClientHello did not arrive within the peek timeout"};
  } else if (status == tls::HelloStatus::Done) {
    const tls::ClientHelloInfo& hello = parser.info();
    out.sni = hello.sni;
    Host sni;
    if (auto ech = ech_refusal(hello, snapshot)) {
      out.refusal = std::move(ech);
    } else if (!hello.has_sni) {
      // Nothing named: the tunnel's destination stands.
    } else if (normalize_host(hello.sni, sni) != HostError::None) {
      out.refusal = HelloRefusal{audit::Reason::BadSni, "the SNI is not a host name"};
    } else if (sni.name != target.name) {
      // Domain fronting: the tunnel was allowed for one name, the TLS
      // session names another. Only allowed if that name is itself.
      const policy::Decision fronted = snapshot.decide(sni, port, identity);
      if (!fronted.let_out()) {
        out.refusal = HelloRefusal{audit::Reason::SniMismatch,
                                   "the ClientHello names " + sni.name + ", not " + target.name +
                                       ": " + snapshot.describe(fronted, sni, port, identity)};
      }
    }
  }
  co_return out;
}

}  // namespace chokepoint::proxy
