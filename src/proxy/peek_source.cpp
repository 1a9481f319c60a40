// Transparent and SNI listeners' destinations: the client believes it talks
// to the server, so the destination comes from its first bytes. A
// ClientHello gives the host (SNI) for one tunnel; an HTTP request line
// turns the connection into plain HTTP, one destination per request (the
// host from Host); anything else, or silence, leaves only the original
// destination's address (transparent) or nothing to go by (SNI listener).
// The port is the original destination's (transparent) or the configured
// one (SNI listener: 443, or 80 for plain HTTP).
//
// The peek is bounded in time and bytes; a client that stalls inside its
// hello is cut off.
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/original_dst.hpp>
#include <chokepoint/proxy/options.hpp>

#include "destination_source.hpp"
#include "http_request_reader.hpp"

namespace chokepoint::proxy {
namespace {

constexpr std::uint16_t kPlainHttpPort = 80;

enum class Seen : std::uint8_t { Tls, Http, Other, Nothing };

class PeekSource final : public DestinationSource {
 public:
  PeekSource(const ProxyOptions& options, net::Interception how, const tcp::endpoint& listener)
      : options_(options), how_(how), listener_(listener), reader_(options) {}

  audit::Mode mode() const override {
    return how_ == net::Interception::None ? audit::Mode::Sni : audit::Mode::Transparent;
  }

  asio::awaitable<Learned> next(ClientConnection& client, audit::Record& record,
                                Requester) override {
    if (original_) record.orig_dst = net::format_endpoint(*original_);
    if (plain_http_) {
      co_return co_await reader_.next_origin_request(client, record, http_port(), original_);
    }
    if (peeked_) co_return Learned{};  // the one tunnel of the connection is over
    peeked_ = true;

    if (how_ != net::Interception::None) {
      error_code ec;
      original_ = net::original_destination(client.socket, how_, ec);
      if (!original_) {
        co_return Learned::refused(audit::Reason::NoOriginalDestination, ec.message(),
                                   Language::Silent);
      }
      record.orig_dst = net::format_endpoint(*original_);
      // Not redirected: someone connected to the listener itself. Dialing
      // the "original destination" would be dialing ourselves.
      const auto local = client.socket.local_endpoint(ec);
      if (*original_ == listener_ ||
          (how_ == net::Interception::Redirect && !ec && *original_ == local)) {
        co_return Learned::refused(audit::Reason::NotRedirected,
                                   "the connection was not redirected to the proxy",
                                   Language::Silent);
      }
    }

    Learned refused;
    const Seen seen = co_await peek(client, refused);
    if (refused.outcome == Learned::Outcome::Refused) co_return refused;
    if (seen == Seen::Http) {
      plain_http_ = true;
      co_return co_await reader_.next_origin_request(client, record, http_port(), original_);
    }

    Learned l = Learned::destination();
    l.tunnel = true;
    l.language = seen == Seen::Tls ? Language::Tls : Language::Silent;
    l.original_destination = original_;
    if (seen == Seen::Tls) l.hello = &hello_;
    if (seen == Seen::Tls && hello_.has_sni) {
      record.sni = hello_.sni;
      const HostError error = normalize_host(hello_.sni, l.host);
      if (error != HostError::None) {
        co_return Learned::refused(audit::Reason::BadSni,
                                   "the SNI is not a host name: " + std::string(to_string(error)),
                                   Language::Tls);
      }
      l.port = original_ ? original_->port() : options_.sni_port;
    } else if (original_) {
      // No name to go by: the original destination address decides.
      l.host.address = net::to_ip(original_->address()).unmapped();
      l.host.kind = l.host.address.is_v4() ? HostKind::Ipv4 : HostKind::Ipv6;
      l.host.name = l.host.address.to_string();
      l.port = original_->port();
    } else {
      co_return Learned::refused(audit::Reason::NoSni,
                                 "a client of the SNI listener must name its host in the "
                                 "ClientHello",
                                 l.language);
    }
    record.host = l.host.name;
    record.port = l.port;
    co_return l;
  }

 private:
  std::uint16_t http_port() const { return original_ ? original_->port() : kPlainHttpPort; }

  // Reads until the first bytes say what this is: a ClientHello, an HTTP
  // request line, something else, or nothing before the peek deadline.
  // Everything read stays in the client's buffer.
  asio::awaitable<Seen> peek(ClientConnection& client, Learned& refused) {
    const ProxyOptions& options = options_;
    tls::ClientHelloParser parser(options.peek_bytes);
    client.arm(options.peek_timeout);
    error_code ec;
    Seen seen = Seen::Nothing;
    // Bytes may be here already (they came with a balancer's PROXY header):
    // those are looked at before anything is read.
    std::size_t fed = 0;
    while (!ec && !client.deadline.expired()) {
      if (fed == client.buffer.size()) client.commit(co_await client.read_some(ec));
      const std::string_view all = client.unread();
      const tls::HelloStatus status = parser.feed(all.substr(fed));
      fed = all.size();
      if (status == tls::HelloStatus::Done) {
        hello_ = parser.take_info();
        seen = Seen::Tls;
        break;
      }
      if (status == tls::HelloStatus::Malformed || status == tls::HelloStatus::TooLarge) {
        client.disarm();
        refused = Learned::refused(status == tls::HelloStatus::Malformed
                                       ? audit::Reason::MalformedClientHello
                                       : audit::Reason::ClientHelloTooLarge,
                                   std::string(parser.error()), Language::Tls);
        co_return Seen::Other;
      }
      if (status == tls::HelloStatus::NotTls) {
        const http::HttpGuess guess = http::guess_http(all);
        if (guess == http::HttpGuess::Http) {
          seen = Seen::Http;
          break;
        }
        if (guess == http::HttpGuess::NotHttp) {
          seen = Seen::Other;
          break;
        }
      }
    }
    client.disarm();
    if (seen != Seen::Nothing) co_return seen;
    const bool closed = ec && !client.deadline.expired();
    if (client.buffer.size() > 0) {
      // Part of a hello or request line, then nothing (or a hang-up): refuse.
      refused = closed ? Learned::refused(audit::Reason::ClientClosed,
                                          "the client closed before its first message was complete",
                                          Language::Silent)
                       : Learned::refused(audit::Reason::PeekTimeout,
                                          "the first message did not complete within the peek "
                                          "timeout",
                                          Language::Silent);
    } else if (closed) {
      refused = Learned::refused(audit::Reason::ClientClosed,
                                 "the client closed without sending anything", Language::Silent);
    }
    co_return Seen::Nothing;  // a server-speaks-first protocol: decide on the address
  }

  const ProxyOptions& options_;
  net::Interception how_;
  tcp::endpoint listener_;
  HttpRequestReader reader_;
  std::optional<tcp::endpoint> original_;
  tls::ClientHelloInfo hello_;
  bool peeked_ = false;
  bool plain_http_ = false;
};

}  // namespace

std::unique_ptr<DestinationSource> transparent_source(const ProxyOptions& options,
                                                      net::Interception how,
                                                      const tcp::endpoint& listener) {
  return std::make_unique<PeekSource>(options, how, listener);
}

std::unique_ptr<DestinationSource> sni_source(const ProxyOptions& options) {
  return std::make_unique<PeekSource>(options, net::Interception::None, tcp::endpoint());
}

}  // namespace chokepoint::proxy
