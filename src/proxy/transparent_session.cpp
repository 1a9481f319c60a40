#include <boost/asio/write.hpp>

#include <chokepoint/http/request_target.hpp>
#include <chokepoint/proxy/explicit_session.hpp>
#include <chokepoint/proxy/transparent_session.hpp>
#include <chokepoint/tls/client_hello.hpp>

#include "deadline.hpp"
#include "session_common.hpp"

namespace chokepoint::proxy {
namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr std::uint16_t kPlainHttpPort = 80;

class TransparentSession : public LiveSession,
                           public std::enable_shared_from_this<TransparentSession> {
 public:
  TransparentSession(Worker& worker, tcp::socket socket, net::Interception how,
                     const tcp::endpoint& listener, const tcp::endpoint& peer,
                     LimitVerdict admitted)
      : worker_(worker),
        peer_(peer),
        socket_(std::move(socket)),
        how_(how),
        listener_(listener),
        admitted_(admitted),
        deadline_(worker.io().get_executor()),
        snapshot_(worker.snapshot()) {
    client_ip_ = net::to_ip(peer.address()).unmapped();
    record_.client = net::format_endpoint(peer);
    record_.id = worker_.next_id();
    record_.mode = how == net::Interception::None ? audit::Mode::Sni : audit::Mode::Transparent;
  }

  asio::awaitable<void> run() {
    worker_.sessions().push_back(*this);
    worker_.handshake_started();
    try {
      co_await serve();
    } catch (const std::exception& e) {
      record_.reason = "internal_error";
      record_.detail = e.what();
      worker_.emit(record_, audit::Event::Error, started_);
    }
    unlink();
    if (!handed_off_) {
      worker_.handshake_ended();
      if (admitted_ == LimitVerdict::Ok) worker_.limits().release(client_ip_);
    }
    error_code ignored;
    socket_.close(ignored);
  }

  void cancel() override {
    cancelled_ = true;
    error_code ignored;
    socket_.close(ignored);
    if (upstream_) upstream_->close(ignored);
  }

 private:
  enum class Seen : std::uint8_t { Tls, Http, Other, Nothing, Refused };

  asio::awaitable<void> serve() {
    if (admitted_ != LimitVerdict::Ok)
      co_return fail(audit::Event::Error, std::string(to_string(admitted_)), "");
    error_code ec;
    if (how_ == net::Interception::None) {
      co_await serve_steered();
      co_return;
    }
    const auto original = net::original_destination(socket_, how_, ec);
    if (!original) co_return fail(audit::Event::Error, "no_original_destination", ec.message());
    original_ = *original;
    record_.orig_dst = net::format_endpoint(original_);
    // Not redirected: someone connected to the listener itself. Dialing the
    // "original destination" would be dialing ourselves.
    const auto local = socket_.local_endpoint(ec);
    if (original_ == listener_ ||
        (how_ == net::Interception::Redirect && !ec && original_ == local)) {
      co_return fail(audit::Event::Error, "not_redirected",
                     "the connection was not redirected to the proxy");
    }
    identify_client();
    const Seen seen = co_await peek();
    if (seen == Seen::Refused || cancelled_) co_return;
    if (seen == Seen::Http) co_return hand_off_http(original_, original_.port());
    Host host;
    if (seen == Seen::Tls && hello_.has_sni) {
      record_.sni = hello_.sni;
      if (normalize_host(hello_.sni, host) != HostError::None) {
        co_return deny("bad_sni", "the SNI is not a host name: " +
                                      std::string(to_string(normalize_host(hello_.sni, host))));
      }
    } else {
      // No name to go by: the original destination address decides.
      host.address = net::to_ip(original_.address()).unmapped();
      host.kind = host.address.is_v4() ? HostKind::Ipv4 : HostKind::Ipv6;
      host.name = host.address.to_string();
    }
    co_await decide_and_relay(host, original_.port());
  }

  void identify_client() {
    identity_ = snapshot_->identify(&client_ip_, "");
    record_.role = snapshot_->role_label(identity_);
    record_.version = snapshot_->version_label(identity_);
  }

  // Plain HTTP: per-request decisions, as in explicit mode.
  void hand_off_http(std::optional<tcp::endpoint> original, std::uint16_t port) {
    handed_off_ = true;
    worker_.handshake_ended();
    start_transparent_http_session(worker_, std::move(socket_), peer_, original, port,
                                   std::move(first_bytes_));
  }

  // The SNI listener (DNS-steered clients): no original destination, so the
  // name must come from the client, and the port from the configuration.
  asio::awaitable<void> serve_steered() {
    identify_client();
    const Seen seen = co_await peek();
    if (seen == Seen::Refused || cancelled_) co_return;
    if (seen == Seen::Http) co_return hand_off_http(std::nullopt, kPlainHttpPort);
    Host host;
    if (seen != Seen::Tls || !hello_.has_sni) {
      co_return deny("no_sni", "a client of the SNI listener must name its host in the ClientHello",
                     seen == Seen::Tls);
    }
    record_.sni = hello_.sni;
    if (normalize_host(hello_.sni, host) != HostError::None) {
      co_return deny("bad_sni", "the SNI is not a host name");
    }
    co_await decide_and_relay(host, worker_.options().sni_port);
  }

  // Reads until the first bytes say what this is: a ClientHello, an HTTP
  // request line, something else, or nothing before the peek deadline.
  asio::awaitable<Seen> peek() {
    tls::ClientHelloParser parser(worker_.options().peek_bytes);
    deadline_.arm(worker_.options().peek_timeout, socket_, shared_from_this());
    error_code ec;
    Seen seen = Seen::Nothing;
    while (!ec && !deadline_.expired()) {
      char chunk[kReadChunk];
      const auto n = co_await socket_.async_read_some(asio::buffer(chunk), await_into(ec));
      const std::string_view fresh(chunk, n);
      first_bytes_.append(fresh);
      const tls::HelloStatus status = parser.feed(fresh);
      if (status == tls::HelloStatus::Done) {
        hello_ = parser.take_info();
        seen = Seen::Tls;
        break;
      }
      if (status == tls::HelloStatus::Malformed || status == tls::HelloStatus::TooLarge) {
        deadline_.disarm();
        deny(std::string(tls::to_string(status)), std::string(parser.error()), true);
        co_return Seen::Refused;
      }
      if (status == tls::HelloStatus::NotTls) {
        const http::HttpGuess guess = http::guess_http(first_bytes_);
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
    deadline_.disarm();
    if (seen != Seen::Nothing || cancelled_) co_return seen;
    if (!first_bytes_.empty()) {
      // Part of a hello or request line, then nothing (or a hang-up): refuse.
      if (ec && !deadline_.expired()) {
        fail(audit::Event::Error, "client_closed",
             "the client closed before its first message was complete");
      } else {
        deny("peek_timeout", "the first message did not complete within the peek timeout");
      }
      co_return Seen::Refused;
    }
    if (ec && !deadline_.expired()) {
      fail(audit::Event::Error, "client_closed", "the client closed without sending anything");
      co_return Seen::Refused;
    }
    co_return Seen::Nothing;  // a server-speaks-first protocol: decide on the address
  }

  asio::awaitable<void> decide_and_relay(const Host& host, std::uint16_t port) {
    record_.host = host.name;
    record_.port = port;
    if (hello_.ech && snapshot_->policy().ech == policy::EchPolicy::Deny) {
      co_return deny("ech_refused",
                     "the ClientHello offers Encrypted Client Hello and tls.ech is deny");
    }
    const policy::Decision decision = snapshot_->decide(host, port, identity_);
    record_decision(record_, decision, *snapshot_, host, port, identity_);
    if (!decision.let_out()) co_return deny(record_.reason, record_.detail);

    // Dial by name: the vetted addresses the SNI resolves to, not the address
    // the client happened to pick.
    const bool require_match =
        how_ != net::Interception::None &&
        snapshot_->policy().original_destination == policy::OriginalDestinationCheck::RequireMatch;
    Dialled d = co_await resolve_and_connect(worker_, host, port, *snapshot_, identity_, record_,
                                             require_match ? &original_ : nullptr, cancelled_);
    if (cancelled_) co_return;
    if (d.mismatch) {
      co_return deny(
          "original_destination_mismatch",
          host.name + " does not resolve to the original destination " + record_.orig_dst);
    }
    if (d.error() != net::DialError::None) {
      const auto reason = std::string(net::to_string(d.error()));
      if (d.error() == net::DialError::Forbidden) co_return deny(reason, d.detail());
      co_return fail(audit::Event::Error, reason, d.detail());
    }
    tcp::socket upstream = std::move(*d.result.socket);
    upstream_ = &upstream;
    error_code ec;
    co_await asio::async_write(upstream, asio::buffer(first_bytes_), await_into(ec));
    upstream_ = nullptr;
    if (ec || cancelled_) {
      co_return fail(audit::Event::Error, cancelled_ ? "shutdown" : "upstream_write_failed",
                     ec.message());
    }
    if (hello_.ech) record_.detail = "ech offered; the policy saw the outer SNI";
    worker_.emit(record_, audit::Event::Open, started_);
    record_.detail.clear();
    handed_off_ = true;
    worker_.handshake_ended();
    start_relay(worker_, std::move(socket_), std::move(upstream), first_bytes_.size(),
                std::move(record_), started_, client_ip_, decision.match.rule);
  }

  // A refusal: the record, then (for a client that spoke TLS) an alert, then close.
  void deny(const std::string& reason, const std::string& detail, bool tls = false) {
    record_.decision = "deny";
    record_.reason = reason;
    record_.detail = detail;
    worker_.emit(record_, audit::Event::Deny, started_);
    if ((tls || hello_.has_sni || !hello_.versions.empty() || hello_.legacy_version != 0) &&
        snapshot_->policy().deny_alert) {
      error_code ignored;
      asio::write(socket_, asio::buffer(kTlsAccessDenied), ignored);
    }
  }

  void fail(audit::Event event, const std::string& reason, const std::string& detail) {
    record_.reason = reason;
    record_.detail = detail;
    worker_.emit(record_, event, started_);
  }

  Worker& worker_;
  tcp::endpoint peer_;
  tcp::socket socket_;
  net::Interception how_;
  tcp::endpoint listener_;
  LimitVerdict admitted_;
  Deadline deadline_;
  std::shared_ptr<const policy::Snapshot> snapshot_;
  Clock::time_point started_ = Clock::now();
  audit::Record record_;
  IpAddress client_ip_;
  policy::ClientIdentity identity_;
  tcp::endpoint original_;
  std::string first_bytes_;
  tls::ClientHelloInfo hello_;
  tcp::socket* upstream_ = nullptr;
  bool cancelled_ = false;
  bool handed_off_ = false;
};

}  // namespace

void start_transparent_session(Worker& worker, tcp::socket socket, net::Interception how,
                               const tcp::endpoint& listener, const tcp::endpoint& peer,
                               LimitVerdict admitted) {
  auto session = std::make_shared<TransparentSession>(worker, std::move(socket), how, listener,
                                                      peer, admitted);
  asio::co_spawn(
      worker.io(), [session] { return session->run(); }, asio::detached);
}

}  // namespace chokepoint::proxy
