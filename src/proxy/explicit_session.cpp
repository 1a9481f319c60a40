#include "explicit_session.hpp"

#include <boost/asio/write.hpp>

#include <chokepoint/auth/authenticator.hpp>

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

void start_explicit_session(Worker& worker, tcp::socket socket, LimitVerdict admitted) {
  auto session = std::make_shared<ExplicitSession>(worker, std::move(socket), admitted);
  asio::co_spawn(
      worker.io(), [session] { return session->run(); }, asio::detached);
}

ExplicitSession::ExplicitSession(Worker& worker, tcp::socket socket, LimitVerdict admitted)
    : admitted_(admitted),
      worker_(worker),
      stream_(std::move(socket)),
      head_timer_(worker.io()),
      snapshot_(worker.snapshot()) {
  error_code ec;
  const auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    client_ip_ = net::to_ip(remote.address()).unmapped();
    client_ = net::format_endpoint(remote);
  }
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

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
  // One deadline for the whole head, not per read. Its own timer cancels the
  // read but keeps the socket (tcp_stream's expiry would close it), so the
  // client still gets its 408.
  bool expired = false;
  head_timer_.expires_after(worker_.options().head_timeout);
  head_timer_.async_wait([this, &expired](const error_code& timer_ec) {
    if (timer_ec) return;
    expired = true;
    error_code ignored;
    stream_.socket().cancel(ignored);
  });
  error_code ec;
  while (true) {
    if (buffer_.size() > 0) {
      const auto used = parser.put(buffer_.data(), ec);
      if (!ec) {
        const auto head = static_cast<const char*>(buffer_.data().data());
        if (http::has_obs_fold(std::string_view(head, used))) {
          ec = bhttp::error::bad_field;
          record.detail = std::string(to_string(http::RequestError::ObsFold));
        }
        buffer_.consume(used);
        if (!ec) break;
      }
      if (ec != bhttp::error::need_more) break;
      ec = {};
    }
    const auto read =
        co_await stream_.socket().async_read_some(buffer_.prepare(kReadChunk), await_into(ec));
    buffer_.commit(read);
    if (expired) ec = beast::error::timeout;
    if (ec) break;
  }
  head_timer_.cancel();
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
  const http::RequestError error = http::read_request_target(header, {}, target);
  record.mode = target.connect ? audit::Mode::Connect : audit::Mode::Http;
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

void ExplicitSession::apply_decision(audit::Record& record, const policy::Decision& decision,
                                     const Host& host, std::uint16_t port) {
  record.decision = std::string(policy::to_string(decision.action));
  record.rule = std::string(decision.rule_id());
  record.reason = std::string(policy::to_string(decision.reason));
  record.enforced = decision.enforced;
  if (!decision.let_out() || !decision.enforced) {
    record.detail = snapshot_->describe(decision, host, port, identity_);
  }
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
  const auto snapshot = snapshot_;
  const auto identity = identity_;
  const net::AddressVetter vet = [snapshot, identity](const IpAddress& address, std::uint16_t p) {
    return snapshot->allows_address(address, p, identity);
  };
  const net::DialPlan plan = co_await worker_.dialer().plan(host, port, vet);
  net::DialResult result;
  if (plan.error == net::DialError::None && !cancelled_)
    result = co_await worker_.dialer().connect(plan);
  if (cancelled_) {
    record.reason = "shutdown";
    worker_.emit(record, audit::Event::Error, started);
    co_return std::nullopt;
  }
  const net::DialError error = plan.error != net::DialError::None ? plan.error : result.error;
  if (error == net::DialError::None) {
    record.upstream = net::format_endpoint(result.endpoint);
    co_return std::move(result.socket);
  }
  const std::string detail = plan.error != net::DialError::None ? plan.detail : result.detail;
  ErrorResponse response = dial_failure(error, detail);
  response.close = !keep_alive;
  record.reason = std::string(net::to_string(error));
  record.detail = detail;
  if (error == net::DialError::Forbidden) record.decision = "deny";
  co_await refuse(response, record,
                  error == net::DialError::Forbidden ? audit::Event::Deny : audit::Event::Error,
                  started);
  co_return std::nullopt;
}

asio::awaitable<void> ExplicitSession::tunnel(http::RequestTarget& target, audit::Record record,
                                              Clock::time_point started) {
  const policy::Decision decision = snapshot_->decide(target.host, target.port, identity_);
  apply_decision(record, decision, target.host, target.port);
  if (!decision.let_out()) {
    const ErrorResponse response{403, "http_request_denied", record.reason + ": " + record.detail};
    co_await refuse(response, record, audit::Event::Deny, started);
    co_return;
  }

  std::optional<tcp::socket> upstream =
      co_await dial(target.host, target.port, record, started, false);
  if (!upstream) co_return;
  upstream_ = &*upstream;

  // Bytes the client sent after the head, before our answer: they go first.
  error_code ec;
  const std::size_t early = buffer_.size();
  if (early > 0) {
    co_await asio::async_write(*upstream, buffer_.data(), await_into(ec));
    buffer_.consume(buffer_.size());
  }
  if (!ec)
    co_await asio::async_write(stream_.socket(), asio::buffer(kConnectEstablished), await_into(ec));
  upstream_ = nullptr;
  if (ec || cancelled_) {
    record.reason = cancelled_ ? "shutdown" : "client_closed";
    record.detail = ec.message();
    worker_.emit(record, audit::Event::Error, started);
    co_return;
  }
  record.status = 200;
  record.bytes_up = early;
  worker_.emit(record, audit::Event::Open, started);
  record.status = 0;
  record.detail.clear();

  handed_off_ = true;
  worker_.handshake_ended();
  relay::TunnelOptions options;
  options.force_copy = worker_.options().force_copy;
  Worker* worker = &worker_;
  const IpAddress client_ip = client_ip_;
  relay::Tunnel::start(stream_.release_socket(), std::move(*upstream), worker_.pipes(),
                       worker_.tunnels(), options, early,
                       [worker, client_ip, record = std::move(record),
                        started](const relay::TunnelResult& r) mutable {
                         worker->limits().release(client_ip);
                         record.bytes_up = r.bytes_up;
                         record.bytes_down = r.bytes_down;
                         record.relay = std::string(relay::to_string(r.path));
                         record.end = std::string(relay::to_string(r.end));
                         if (r.error) record.detail = r.error.message();
                         worker->emit(record, audit::Event::Close, started);
                       });
}

}  // namespace chokepoint::proxy
