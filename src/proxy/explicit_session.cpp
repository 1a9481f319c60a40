#include "explicit_session.hpp"

#include <cstring>

#include <boost/asio/write.hpp>

#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/tls/client_hello.hpp>

#include "session_common.hpp"

namespace chokepoint::proxy {
namespace {

constexpr std::string_view kConnectEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";
constexpr std::size_t kReadChunk = 4096;
// Bounds of the lingering close after an error answer.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 1 << 20;

ErrorResponse dial_failure(net::DialError error, const std::string& detail) {
  switch (error) {
    case net::DialError::Forbidden:
      return {403, "destination_ip_prohibited", detail};
    case net::DialError::NotFound:
      return {502, "dns_error", detail};
    case net::DialError::DnsFailed:
      return {502, "dns_error", detail};
    case net::DialError::DnsTimeout:
      return {504, "dns_timeout", detail};
    case net::DialError::Refused:
      return {502, "connection_refused", detail};
    case net::DialError::Timeout:
      return {504, "connection_timeout", detail};
    case net::DialError::Unreachable:
      return {502, "destination_ip_unroutable", detail};
    default:
      return {502, "destination_unavailable", detail};
  }
}

}  // namespace

void start_explicit_session(Worker& worker, tcp::socket socket, const tcp::endpoint& peer,
                            LimitVerdict admitted) {
  auto session = std::make_shared<ExplicitSession>(worker, std::move(socket), peer, admitted);
  asio::co_spawn(
      worker.io(), [session] { return session->run(); }, asio::detached);
}

void start_transparent_http_session(Worker& worker, tcp::socket socket, const tcp::endpoint& peer,
                                    const std::optional<tcp::endpoint>& original_dst,
                                    std::uint16_t port, std::string first_bytes) {
  auto session =
      std::make_shared<ExplicitSession>(worker, std::move(socket), peer, LimitVerdict::Ok);
  session->become_transparent(original_dst, port, first_bytes);
  asio::co_spawn(
      worker.io(), [session] { return session->run(); }, asio::detached);
}

void ExplicitSession::become_transparent(const std::optional<tcp::endpoint>& original_dst,
                                         std::uint16_t port, std::string_view first_bytes) {
  original_dst_ = original_dst;
  origin_port_ = port;
  const auto into = buffer_.prepare(first_bytes.size());
  std::memcpy(into.data(), first_bytes.data(), first_bytes.size());
  buffer_.commit(first_bytes.size());
}

ExplicitSession::ExplicitSession(Worker& worker, tcp::socket socket, const tcp::endpoint& peer,
                                 LimitVerdict admitted)
    : admitted_(admitted),
      worker_(worker),
      stream_(std::move(socket)),
      deadline_(worker.io().get_executor()),
      snapshot_(worker.snapshot()),
      client_ip_(net::to_ip(peer.address()).unmapped()),
      client_(net::format_endpoint(peer)) {}

void ExplicitSession::cancel() {
  cancelled_ = true;
  error_code ignored;
  stream_.socket().close(ignored);
  if (upstream_) upstream_->close(ignored);
}

asio::awaitable<void> ExplicitSession::run() {
  worker_.sessions().push_back(*this);
  worker_.handshake_started();
  try {
    if (admitted_ != LimitVerdict::Ok) {
      co_await refuse_over_limit();
    } else {
      while (!cancelled_ && co_await serve_one()) {
      }
    }
  } catch (const std::exception& e) {
    // Only resource exhaustion (bad_alloc) gets here; the connection is lost
    // but the process keeps serving.
    audit::Record record;
    record.id = worker_.next_id();
    record.client = client_;
    record.reason = "internal_error";
    record.detail = e.what();
    worker_.emit(record, audit::Event::Error, Clock::now());
  }
  unlink();
  if (!handed_off_) {
    worker_.handshake_ended();
    if (admitted_ == LimitVerdict::Ok) worker_.limits().release(client_ip_);
  }
  error_code ignored;
  stream_.socket().close(ignored);
}

asio::awaitable<void> ExplicitSession::refuse_over_limit() {
  audit::Record record;
  record.id = worker_.next_id();
  record.client = client_;
  record.reason = std::string(to_string(admitted_));
  record.detail = "over the proxy's " + std::string(to_string(admitted_)) + "; try again later";
  ErrorResponse response{503, "connection_limit_reached", record.detail};
  response.extra_headers = "Retry-After: 1\r\n";
  co_await refuse(response, record, audit::Event::Error, Clock::now());
}

asio::awaitable<bool> ExplicitSession::read_head(bhttp::request_parser<bhttp::empty_body>& parser,
                                                 audit::Record& record, Clock::time_point started,
                                                 bool first) {
  parser.header_limit(static_cast<std::uint32_t>(worker_.options().max_header_bytes));
  // Bodies stream through (http_forward.cpp); the head reader must not judge
  // their size. Not boost::none: see kNoBodyLimit there.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  // One deadline for the whole head, not per read; it keeps the socket, so
  // the client still gets its 408.
  deadline_.arm(worker_.options().head_timeout, stream_.socket(), shared_from_this());
  error_code ec;
  std::size_t taken = 0;  // bytes of buffer_ the parser has taken (http/head_reader.hpp)
  while (true) {
    if (buffer_.size() > 0) {
      const auto step = http::feed_request_head(
          parser, {static_cast<const char*>(buffer_.data().data()), buffer_.size()}, taken);
      ec = step.ec;
      if (step.folded) record.detail = std::string(to_string(http::RequestError::ObsFold));
      if (!ec || step.folded) {
        buffer_.consume(taken);
        if (!ec) break;
      }
      if (ec != bhttp::error::need_more) break;
      ec = {};
    }
    const auto read =
        co_await stream_.socket().async_read_some(buffer_.prepare(kReadChunk), await_into(ec));
    buffer_.commit(read);
    if (deadline_.expired()) ec = beast::error::timeout;
    if (ec) break;
  }
  deadline_.disarm();
  if (!ec) co_return true;
  if (cancelled_) co_return false;

  const bool nothing_read = buffer_.size() == 0 && !parser.got_some();
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted) {
    // The client went away between requests: nothing was asked, nothing to record.
    if (!nothing_read) {
      record.reason = "client_closed";
      record.detail = "the client closed the connection in the middle of a request head";
      worker_.emit(record, audit::Event::Error, started);
    }
    co_return false;
  }
  if (ec == beast::error::timeout) {
    if (nothing_read && !first) co_return false;  // an idle keep-alive connection
    record.reason = "request_head_timeout";
    const ErrorResponse response{408, "http_request_error",
                                 "request head not complete within the timeout"};
    co_await refuse(response, record, audit::Event::Error, started);
    co_return false;
  }
  if (ec == bhttp::error::header_limit) {
    record.reason = "header_too_large";
    const ErrorResponse response{431, "http_request_error",
                                 "request head larger than " +
                                     std::to_string(worker_.options().max_header_bytes) + " bytes"};
    co_await refuse(response, record, audit::Event::Error, started);
    co_return false;
  }
  record.reason = "bad_request";
  if (record.detail.empty()) record.detail = ec.message();
  const ErrorResponse response{400, "http_request_error", record.detail};
  co_await refuse(response, record, audit::Event::Error, started);
  co_return false;
}

asio::awaitable<bool> ExplicitSession::serve_one() {
  const bool first = !identified_;
  identified_ = true;
  const auto started = Clock::now();
  audit::Record record;
  record.id = worker_.next_id();
  record.client = client_;

  bhttp::request_parser<bhttp::empty_body> parser;
  if (!co_await read_head(parser, record, started, first)) co_return false;
  const http::RequestHeader& header = parser.get().base();

  http::RequestTarget target;
  http::RequestError error = http::RequestError::None;
  if (origin_port_ != 0) {
    record.mode = original_dst_ ? audit::Mode::Transparent : audit::Mode::Sni;
    if (original_dst_) record.orig_dst = net::format_endpoint(*original_dst_);
    error = http::read_origin_request(header, {}, origin_port_, target);
    if (error == http::RequestError::MissingHost && original_dst_) {
      // HTTP/1.0 without Host: the original destination is all there is.
      target.host.kind = original_dst_->address().is_v4() ? HostKind::Ipv4 : HostKind::Ipv6;
      target.host.address = net::to_ip(original_dst_->address()).unmapped();
      target.host.name = target.host.address.to_string();
      error = http::RequestError::None;
    }
  } else {
    error = http::read_request_target(header, {}, target);
    record.mode = target.connect ? audit::Mode::Connect : audit::Mode::Http;
  }
  record.method = std::string(header.method_string());
  if (const auto host = header.find(bhttp::field::host); host != header.end()) {
    record.http_host = std::string(host->value());
  }
  if (error != http::RequestError::None) {
    record.reason = "bad_request";
    record.detail = std::string(to_string(error));
    if (error == http::RequestError::BadAuthority)
      record.detail += ": " + std::string(to_string(target.host_error));
    record.path = std::string(header.target());
    const ErrorResponse response{400, "http_request_error", record.detail};
    co_await refuse(response, record, audit::Event::Error, started);
    co_return false;
  }
  record.host = target.host.name;
  record.port = target.port;
  if (!target.connect) record.path = target.path;

  bool keep_alive = parser.keep_alive();
  if (!co_await authenticate(header, record, started, keep_alive)) co_return keep_alive;

  identity_ = snapshot_->identify(&client_ip_, user_);
  record.user = user_;
  record.role = snapshot_->role_label(identity_);
  record.version = snapshot_->version_label(identity_);

  if (target.connect) {
    co_await tunnel(target, std::move(record), started);
    co_return false;
  }
  co_return co_await forward(parser, target, std::move(record), started);
}

asio::awaitable<bool> ExplicitSession::authenticate(const http::RequestHeader& header,
                                                    audit::Record& record,
                                                    Clock::time_point started, bool& keep_alive) {
  auth::Authenticator* authenticator = worker_.authenticator();
  user_.clear();
  if (!authenticator)
    co_return true;  // auth off: Proxy-Authorization is ignored (and never forwarded)

  const auto field = header.find(bhttp::field::proxy_authorization);
  const std::string value = field == header.end() ? std::string() : std::string(field->value());
  std::string user;
  const auth::Outcome outcome = co_await authenticator->check(worker_.index(), value, user);
  if (outcome == auth::Outcome::Ok) {
    user_ = std::move(user);
    co_return true;
  }
  record.user = user;
  record.decision = "deny";
  record.reason = outcome == auth::Outcome::Missing ? "auth_required" : "auth_failed";
  ErrorResponse response{407, "http_request_denied",
                         outcome == auth::Outcome::Missing ? "proxy authentication required"
                                                           : "proxy authentication failed"};
  response.extra_headers =
      "Proxy-Authenticate: Basic realm=" + structured_string(worker_.options().auth_realm) +
      ", charset=\"UTF-8\"\r\n";
  // Without a request body to skip, the client may retry with credentials on
  // this connection.
  const bool has_body = header.find(bhttp::field::content_length) != header.end() ||
                        header.find(bhttp::field::transfer_encoding) != header.end();
  response.close = has_body || !keep_alive;
  keep_alive = !response.close;
  co_await refuse(response, record, audit::Event::Deny, started);
  co_return false;
}

asio::awaitable<void> ExplicitSession::refuse(const ErrorResponse& response, audit::Record& record,
                                              audit::Event event, Clock::time_point started) {
  record.status = response.status;
  worker_.emit(record, event, started);
  const std::string bytes = render(response);
  stream_.expires_after(worker_.options().head_timeout);
  error_code ec;
  co_await asio::async_write(stream_, asio::buffer(bytes), await_into(ec));
  stream_.expires_never();
  if (!response.close || ec) co_return;
  // Lingering close: closing with unread bytes in the receive buffer makes
  // the kernel send a reset, which can destroy our answer before the client
  // reads it. Send our FIN, then read and drop what the client still sends,
  // within a bound, until its FIN.
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(kLingerTime);
  std::size_t drained = 0;
  char sink[4096];
  while (!ec && drained < kLingerBytes) {
    drained += co_await stream_.async_read_some(asio::buffer(sink), await_into(ec));
  }
  stream_.expires_never();
}

asio::awaitable<std::optional<tcp::socket>> ExplicitSession::dial(const Host& host,
                                                                  std::uint16_t port,
                                                                  audit::Record& record,
                                                                  Clock::time_point started,
                                                                  bool keep_alive) {
  const bool require_match = original_dst_ && snapshot_->policy().original_destination ==
                                                  policy::OriginalDestinationCheck::RequireMatch;
  Dialled d = co_await resolve_and_connect(worker_, host, port, *snapshot_, identity_, record,
                                           require_match ? &*original_dst_ : nullptr, cancelled_);
  if (cancelled_) {
    record.reason = "shutdown";
    worker_.emit(record, audit::Event::Error, started);
    co_return std::nullopt;
  }
  if (d.mismatch) {
    // The client went to an address the name it gave does not resolve to.
    record.decision = "deny";
    record.reason = "original_destination_mismatch";
    record.detail = host.name + " does not resolve to the original destination " + record.orig_dst;
    const ErrorResponse response{403, "destination_ip_prohibited",
                                 record.reason + ": " + record.detail};
    co_await refuse(response, record, audit::Event::Deny, started);
    co_return std::nullopt;
  }
  const net::DialError error = d.error();
  if (error == net::DialError::None) co_return std::move(d.result.socket);
  ErrorResponse response = dial_failure(error, d.detail());
  response.close = !keep_alive;
  record.reason = std::string(net::to_string(error));
  record.detail = d.detail();
  if (error == net::DialError::Forbidden) record.decision = "deny";
  co_await refuse(response, record,
                  error == net::DialError::Forbidden ? audit::Event::Deny : audit::Event::Error,
                  started);
  co_return std::nullopt;
}

asio::awaitable<void> ExplicitSession::tunnel(http::RequestTarget& target, audit::Record record,
                                              Clock::time_point started) {
  const policy::Decision decision = snapshot_->decide(target.host, target.port, identity_);
  record_decision(record, decision, *snapshot_, target.host, target.port, identity_);
  if (!decision.let_out()) {
    const ErrorResponse response{403, "http_request_denied", record.reason + ": " + record.detail};
    co_await refuse(response, record, audit::Event::Deny, started);
    co_return;
  }

  std::optional<tcp::socket> upstream =
      co_await dial(target.host, target.port, record, started, false);
  if (!upstream) co_return;

  error_code ec;
  co_await asio::async_write(stream_.socket(), asio::buffer(kConnectEstablished), await_into(ec));
  if (ec || cancelled_) {
    record.reason = cancelled_ ? "shutdown" : "client_closed";
    record.detail = ec.message();
    worker_.emit(record, audit::Event::Error, started);
    co_return;
  }
  record.status = 200;
  worker_.emit(record, audit::Event::Open, started);
  record.status = 0;
  record.detail.clear();

  // Bytes the client sent after the head (early data) and, when the tunnel
  // check is on, its ClientHello: read here, sent upstream before the relay.
  if (snapshot_->policy().check_tunnel_sni &&
      !co_await check_tunnel_hello(target, *upstream, record, started)) {
    co_return;
  }
  const std::size_t early = buffer_.size();
  if (early > 0) co_await asio::async_write(*upstream, buffer_.data(), await_into(ec));
  buffer_.consume(buffer_.size());
  if (ec || cancelled_) {
    record.end = cancelled_ ? "shutdown" : "reset";
    record.detail = ec.message();
    worker_.emit(record, audit::Event::Close, started);
    co_return;
  }
  handed_off_ = true;
  worker_.handshake_ended();
  start_relay(worker_, stream_.release_socket(), std::move(*upstream), early, std::move(record),
              started, client_ip_, decision.match.rule);
}

asio::awaitable<bool> ExplicitSession::check_tunnel_hello(const http::RequestTarget& target,
                                                          tcp::socket& upstream,
                                                          audit::Record& record,
                                                          Clock::time_point started) {
  tls::ClientHelloParser parser(worker_.options().peek_bytes);
  parser.feed(std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size()));

  // TLS clients speak first: if the server does, this is not a TLS client
  // and there is nothing to check (and its banner must not wait for us).
  server_spoke_ = false;
  upstream.async_wait(tcp::socket::wait_read,
                      [self = shared_from_this()](const error_code& wait_ec) {
                        if (wait_ec) return;
                        self->server_spoke_ = true;
                        error_code ignored;
                        self->stream_.socket().cancel(ignored);
                      });
  // A silent tunnel is idle: the idle timeout bounds this wait too.
  deadline_.arm(std::min(worker_.options().peek_timeout, worker_.options().idle_timeout),
                stream_.socket(), shared_from_this());
  error_code ec;
  while (parser.status() == tls::HelloStatus::NeedMore && !server_spoke_ && !deadline_.expired() &&
         !ec) {
    const auto n =
        co_await stream_.socket().async_read_some(buffer_.prepare(kReadChunk), await_into(ec));
    buffer_.commit(n);
    const auto all = buffer_.data();
    parser.feed(std::string_view(static_cast<const char*>(all.data()) + all.size() - n, n));
  }
  deadline_.disarm();
  error_code ignored;
  upstream.cancel(ignored);

  const tls::HelloStatus status = parser.status();
  std::string refusal;
  if (status == tls::HelloStatus::Malformed || status == tls::HelloStatus::TooLarge) {
    refusal = std::string(tls::to_string(status));
    record.detail = std::string(parser.error());
  } else if (status == tls::HelloStatus::NeedMore && deadline_.expired() && buffer_.size() > 0) {
    // Part of a hello, then nothing: a slow client holding a slot.
    refusal = "peek_timeout";
    record.detail = "the ClientHello did not arrive within the peek timeout";
  } else if (status == tls::HelloStatus::Done) {
    const tls::ClientHelloInfo& hello = parser.info();
    record.sni = hello.sni;
    if (hello.ech && snapshot_->policy().ech == policy::EchPolicy::Deny) {
      refusal = "ech_refused";
      record.detail = "the ClientHello offers Encrypted Client Hello and tls.ech is deny";
    } else if (hello.has_sni) {
      Host sni;
      if (normalize_host(hello.sni, sni) != HostError::None) {
        refusal = "bad_sni";
        record.detail = "the SNI is not a host name";
      } else if (sni.name != target.host.name) {
        // Domain fronting: the tunnel was allowed for one name, the TLS
        // session names another. Only allowed if that name is itself.
        const policy::Decision fronted = snapshot_->decide(sni, target.port, identity_);
        if (!fronted.let_out()) {
          refusal = "sni_mismatch";
          record.detail = "the ClientHello names " + sni.name + ", not " + target.host.name + ": " +
                          snapshot_->describe(fronted, sni, target.port, identity_);
        }
      }
    }
  }
  if (cancelled_) {
    record.end = "shutdown";
    worker_.emit(record, audit::Event::Close, started);
    co_return false;
  }
  if (refusal.empty()) co_return true;

  record.decision = "deny";
  record.reason = refusal;
  worker_.emit(record, audit::Event::Deny, started);
  if (snapshot_->policy().deny_alert && status != tls::HelloStatus::NeedMore) {
    co_await asio::async_write(stream_.socket(), asio::buffer(kTlsAccessDenied), await_into(ec));
  }
  record.end = "denied";
  worker_.emit(record, audit::Event::Close, started);
  co_return false;
}

}  // namespace chokepoint::proxy
