#include "session.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>

#include <chokepoint/audit/policy_terms.hpp>
#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/proxy/worker.hpp>

#include "auto_config.hpp"
#include "client_check.hpp"
#include "dial.hpp"
#include "http_forward.hpp"
#include "parent_proxy.hpp"
#include "proxy_header_stage.hpp"
#include "tunnel_hello.hpp"

namespace chokepoint::proxy {
namespace {

using Clock = std::chrono::steady_clock;

// Bounds of the lingering close after an HTTP error answer.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 1 << 20;

audit::Mode mode_of(ListenerKind kind) {
  switch (kind) {
    case ListenerKind::Explicit:
      return audit::Mode::Connect;
    case ListenerKind::Transparent:
    case ListenerKind::Tproxy:
      return audit::Mode::Transparent;
    case ListenerKind::Sni:
      return audit::Mode::Sni;
    case ListenerKind::Socks:
      return audit::Mode::Socks;
  }
  return audit::Mode::Connect;
}

audit::End end_of(relay::EndReason end) {
  switch (end) {
    case relay::EndReason::Eof:
      return audit::End::Eof;
    case relay::EndReason::Reset:
      return audit::End::Reset;
    case relay::EndReason::IdleTimeout:
      return audit::End::IdleTimeout;
    case relay::EndReason::HalfCloseTimeout:
      return audit::End::HalfCloseTimeout;
    case relay::EndReason::Shutdown:
      return audit::End::Shutdown;
  }
  return audit::End::Reset;
}

// Who ended a relayed tunnel: the side that closed or failed first, the
// idle limit, or the proxy stopping.
audit::Source source_of(const relay::TunnelResult& r) {
  if (r.end == relay::EndReason::IdleTimeout || r.end == relay::EndReason::HalfCloseTimeout)
    return audit::Source::Limit;
  switch (r.ended_by) {
    case relay::EndedBy::Client:
      return audit::Source::Client;
    case relay::EndedBy::Upstream:
      return audit::Source::Upstream;
    case relay::EndedBy::Proxy:
      return audit::Source::Internal;
  }
  return audit::Source::Internal;
}

// The decision's facts; a deny (or an unenforced one) also gets the
// sentence that says why.
void note_decision(audit::Record& record, const policy::Decision& decision,
                   const policy::Snapshot& snapshot, const Host& host, std::uint16_t port,
                   const policy::ClientIdentity& identity) {
  record.decision = audit::decision_of(decision.action);
  record.rule = std::string(decision.rule_id());
  if (decision.match.rule) record.service = decision.match.rule->service;
  record.reason = audit::reason_of(decision.reason);
  record.enforced = decision.enforced;
  if (!decision.let_out() || !decision.enforced)
    record.detail = snapshot.describe(decision, host, port, identity);
}

}  // namespace

void start_session(Worker& worker, ListenerKind kind, tcp::socket socket, const tcp::endpoint& peer,
                   const tcp::endpoint& local, ConnectionSlot slot) {
  auto session =
      std::make_shared<Session>(worker, kind, std::move(socket), peer, local, std::move(slot));
  asio::co_spawn(
      worker.io(), [session] { return session->run(); }, asio::detached);
}

Session::Session(Worker& worker, ListenerKind kind, tcp::socket socket, const tcp::endpoint& peer,
                 const tcp::endpoint& local, ConnectionSlot slot)
    : worker_(worker),
      slot_(std::move(slot)),
      kind_(kind),
      client_(std::make_unique<ClientConnection>(std::move(socket))),
      snapshot_(worker.snapshot()),
      client_ip_(net::to_ip(peer.address()).unmapped()),
      network_(worker.limits().key(client_ip_)),
      client_text_(net::format_endpoint(peer)),
      listener_port_(local.port()),
      upstream_deadline_(nullptr) {
  switch (kind) {
    case ListenerKind::Explicit:
      source_ = explicit_source(worker);
      break;
    case ListenerKind::Transparent:
      source_ = transparent_source(worker, net::Interception::Redirect, local);
      break;
    case ListenerKind::Tproxy:
      source_ = transparent_source(worker, net::Interception::Tproxy, local);
      break;
    case ListenerKind::Sni:
      source_ = sni_source(worker);
      break;
    case ListenerKind::Socks:
      source_ = socks_source(worker);
      break;
  }
}

asio::awaitable<void> Session::run() {
  slot_.attach(*this);
  client_->owner = weak_from_this();
  try {
    if (!slot_.admission()) {
      co_await refuse_admission();
    } else if (co_await accept_proxy_header()) {
      while (!stop_.requested() && co_await exchange()) {
      }
    }
  } catch (const std::exception&) {
    // Only resource exhaustion (bad_alloc) gets here: the exchange's record
    // was written by its destructor; the process keeps serving.
  }
  error_code ignored;
  if (client_) client_->socket.close(ignored);
}

void Session::cancel() {
  stop_.request();
  error_code ignored;
  if (tunnel_) {
    tunnel_->stop(relay::EndReason::Shutdown);
    return;
  }
  if (client_) {
    client_->socket.close(ignored);
    // An armed deadline holds the session until it fires: it goes now.
    client_->disarm();
  }
  if (upstream_deadline_) upstream_deadline_->disarm();
  if (upstream_) upstream_->close(ignored);
}

asio::awaitable<bool> Session::accept_proxy_header() {
  if (!slot_.from_balancer()) co_return true;
  const ProxyHeader header = co_await read_proxy_header(*client_, worker_.options().head_timeout);
  switch (header.outcome) {
    case ProxyHeader::Outcome::Gone:
      co_return false;
    case ProxyHeader::Outcome::HealthCheck:
      worker_.health_check();
      co_return false;
    case ProxyHeader::Outcome::Refused: {
      record_ = audit::Record();
      record_.client = client_text_;
      record_.mode = mode_of(kind_);
      PendingRecord record(worker_, record_, Clock::now());
      // Only an HTTP client can read why (the SOCKS handshake has not begun).
      const Language language = kind_ == ListenerKind::Explicit ? Language::Http : Language::Silent;
      co_await refuse(std::move(record), language, header.refusal, header.detail, false);
      co_return false;
    }
    case ProxyHeader::Outcome::Client:
      break;
  }
  // From here on the client is the one the balancer named, for everything:
  // its role, its limits, its records.
  via_ = std::exchange(client_text_, header.client.to_string());
  client_ip_ = header.client.address;
  network_ = worker_.limits().key(client_ip_);
  if (!slot_.admit_client(client_ip_)) {
    co_await refuse_admission();
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Session::refuse_admission() {
  record_ = audit::Record();
  record_.client = client_text_;
  record_.via = via_;
  record_.mode = mode_of(kind_);
  PendingRecord record(worker_, record_, Clock::now());
  const Admission& admission = slot_.admission();
  // SOCKS has no reply before its request, so an over-limit SOCKS client is
  // closed like a transparent one.
  Language language = kind_ == ListenerKind::Explicit ? Language::Http : Language::Silent;
  if (kind_ == ListenerKind::Socks && admission.refusal == audit::Reason::AuditUnavailable) {
    // Failing closed is not a flood to shed: the client is told (SOCKS5
    // 0x01, SOCKS4 rejected) once its handshake says how to tell it.
    const Learned learned = co_await source_->next(*client_, *record.operator->(), requester());
    if (learned.outcome == Learned::Outcome::Destination) language = learned.language;
  }
  std::string detail =
      admission.refusal == audit::Reason::AuditUnavailable
          ? "the audit log cannot write, and nothing goes out unrecorded; try again later"
          : "over the proxy's " + std::string(audit::to_string(admission.refusal)) +
                "; try again later";
  co_await refuse(std::move(record), language, admission.refusal, std::move(detail), false,
                  admission.retry_after);
}

asio::awaitable<bool> Session::refuse(PendingRecord record, Language language, audit::Reason reason,
                                      std::string detail, bool keep_alive,
                                      std::chrono::milliseconds retry_after) {
  AnswerContext context{detail, keep_alive, snapshot_->policy().deny_alert,
                        worker_.options().auth_realm};
  context.retry_after = retry_after;
  context.next_hop = record.fields().upstream_proxy;
  context.received_status = record.fields().upstream_proxy_status;
  const Answer answer = refusal(language, reason, context);
  record->status = answer.status;
  std::move(record).refuse(reason, std::move(detail));
  // A refusal for a limit must cost as little as possible: no waiting for
  // the client, whatever it does.
  const bool linger = audit::source_of(reason) != audit::Source::Limit;
  co_await send(answer, language, linger);
  co_return !answer.close && !stop_.requested();
}

asio::awaitable<void> Session::send(const Answer& answer, Language language, bool linger) {
  if (answer.bytes.empty() || stop_.requested()) co_return;
  error_code ec;
  client_->arm(worker_.options().head_timeout);
  co_await asio::async_write(client_->socket, asio::buffer(answer.bytes), await_into(ec));
  client_->disarm();
  if (!answer.close || ec || language != Language::Http) co_return;
  // Closing with unread bytes in the receive buffer makes the kernel send a
  // reset, which can destroy the answer before the client reads it.
  if (!linger) {
    // Drop what the client already sent (bounded), without waiting for more.
    char sink[4096];
    for (std::size_t drained = 0; drained < kLingerBytes;) {
      const ssize_t n = ::recv(client_->socket.native_handle(), sink, sizeof sink, MSG_DONTWAIT);
      if (n <= 0) break;
      drained += static_cast<std::size_t>(n);
    }
    co_return;
  }
  // Lingering close: send our FIN, then read and drop what the client still
  // sends, within a bound, until its FIN.
  client_->socket.shutdown(tcp::socket::shutdown_send, ec);
  client_->arm(kLingerTime);
  std::size_t drained = 0;
  char sink[4096];
  while (!ec && drained < kLingerBytes && !client_->deadline.expired()) {
    drained += co_await client_->socket.async_read_some(asio::buffer(sink), await_into(ec));
  }
  client_->disarm();
}

asio::awaitable<bool> Session::exchange() {
  // Learn the destination.
  const auto started = Clock::now();
  record_ = audit::Record();
  record_.client = client_text_;
  record_.via = via_;
  // Identify the client by its address (a proxy user may refine it below).
  policy::ClientIdentity identity = snapshot_->identify(&client_ip_, {});
  record_.role = snapshot_->role_label(identity);
  record_.version = snapshot_->version_label(identity);
  Learned learned = co_await source_->next(*client_, record_, requester());
  if (learned.outcome == Learned::Outcome::Gone) co_return false;
  if (auto forged = forged_proxy_header(*client_))
    learned =
        Learned::refused(audit::Reason::ProxyHeaderRefused, std::move(*forged), learned.language);
  if (learned.outcome == Learned::Outcome::AutoConfig)
    co_return co_await serve_auto_config(learned);
  PendingRecord record(worker_, record_, started);
  if (learned.outcome == Learned::Outcome::Refused) {
    co_return co_await refuse(std::move(record), learned.language, learned.refusal,
                              std::move(learned.detail), learned.keep_alive);
  }

  // Authenticate: a proxy user's mapping wins over the address's.
  std::string user = std::move(learned.user);
  auth::Authenticator* authenticator = worker_.authenticator();
  if (learned.authorization && authenticator) {
    const std::string& header = *learned.authorization;
    const int thread = worker_.index();
    const auth::Verdict verdict = co_await check_for_client(
        *client_, requester(),
        [&](Requester on_behalf) { return authenticator->check(thread, header, user, on_behalf); });
    if (verdict.outcome != auth::Outcome::Ok) {
      record->user = user;
      co_return co_await refuse_credentials(std::move(record), learned, verdict);
    }
  }
  if (!user.empty()) {
    if (worker_.limits().rate_by_user()) {
      const auto wait = worker_.limits().take_rate(ConnectionLimits::user_key(user), Clock::now());
      if (wait) {
        record->user = user;
        co_return co_await refuse(std::move(record), learned.language, audit::Reason::RateLimited,
                                  "over the proxy's rate limit for user " + user, false, *wait);
      }
    }
    identity = snapshot_->identify(&client_ip_, user);
    record->user = user;
    record->role = snapshot_->role_label(identity);
    record->version = snapshot_->version_label(identity);
  }

  // Decide.
  if (learned.hello) {
    if (auto refused = ech_refusal(*learned.hello, *snapshot_)) {
      co_return co_await refuse(std::move(record), learned.language, refused->reason,
                                std::move(refused->detail), learned.keep_alive);
    }
  }
  const policy::Decision decision =
      snapshot_->decide(learned.host, learned.port, identity, learned.path);
  note_decision(*record.operator->(), decision, *snapshot_, learned.host, learned.port, identity);
  if (!decision.let_out()) {
    std::string why = record.fields().detail;
    co_return co_await refuse(std::move(record), learned.language,
                              audit::reason_of(decision.reason), std::move(why),
                              learned.keep_alive);
  }
  if (const policy::Rule* rule = decision.match.rule; rule && rule->max_rate) {
    const auto wait =
        worker_.limits().take_rule_rate(rule->id, *rule->max_rate, client_ip_, Clock::now());
    if (wait) {
      co_return co_await refuse(std::move(record), learned.language, audit::Reason::RateLimited,
                                "over rule " + rule->id + "'s rate for this client",
                                learned.keep_alive, *wait);
    }
  }
  const UpstreamProxy* parent = parent_for(decision.match.rule, worker_.options());
  if (!learned.tunnel) co_return co_await forward(std::move(record), learned, identity, parent);

  // Resolve, vet and dial (or ask the parent proxy).
  Dialled dialled = co_await dial_tunnel(record, learned, identity, parent);
  if (dialled.failure != audit::Reason::None) {
    co_return co_await refuse(std::move(record), learned.language, dialled.failure,
                              std::move(dialled.detail), false);
  }
  co_await tunnel(std::move(record), learned, std::move(*dialled.socket), identity,
                  decision.match.rule, std::move(dialled.early));
  co_return false;
}

asio::awaitable<bool> Session::refuse_credentials(PendingRecord record, const Learned& learned,
                                                  const auth::Verdict& verdict) {
  if (verdict.outcome == auth::Outcome::Abandoned) {
    // Nobody to answer: the client hung up, or the proxy is stopping.
    const bool stopping = stop_.requested();
    std::move(record).refuse(stopping ? audit::Reason::Shutdown : audit::Reason::ClientClosed,
                             stopping ? "the proxy stopped during the password check"
                                      : "the client closed while its password was being checked");
    co_return false;
  }
  const bool missing = verdict.outcome == auth::Outcome::Missing;
  std::string detail = !verdict.detail.empty() ? verdict.detail
                       : missing               ? "proxy authentication required"
                                               : "proxy authentication failed";
  co_return co_await refuse(std::move(record), learned.language,
                            missing ? audit::Reason::AuthRequired : audit::Reason::AuthFailed,
                            std::move(detail), learned.keep_alive);
}

asio::awaitable<Dialled> Session::dial_tunnel(PendingRecord& record, const Learned& learned,
                                              const policy::ClientIdentity& identity,
                                              const UpstreamProxy* parent) {
  Dialled dialled;
  if (!parent) {
    const bool require_match =
        learned.original_destination &&
        snapshot_->policy().original_destination == policy::OriginalDestinationCheck::RequireMatch;
    dialled = co_await dial(worker_, learned.host, learned.port, *snapshot_, identity,
                            require_match ? &*learned.original_destination : nullptr, requester());
  } else {
    // The parent resolves the name; original_destination's require-match,
    // which needs our own resolution of it, does not apply.
    record->upstream_proxy = parent->to_string();
    dialled = co_await dial_parent(worker_, *parent, learned.host, learned.port, *snapshot_,
                                   identity, requester());
    if (dialled.failure == audit::Reason::None) {
      const auto asked = Clock::now();
      upstream_ = &*dialled.socket;
      // Let go of when the relay starts (tunnel()).
      if (!upstream_deadline_)
        upstream_deadline_ = std::make_unique<Deadline>(worker_.io().get_executor());
      ParentAnswer answer =
          co_await ask_parent(*dialled.socket, *parent, learned.host, learned.port,
                              *upstream_deadline_, worker_.options().connect_timeout,
                              worker_.options().max_header_bytes, shared_from_this());
      upstream_ = nullptr;
      dialled.connect_ms +=
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - asked).count();
      record->upstream_proxy_status = answer.status;
      dialled.failure = stop_.requested() ? audit::Reason::Shutdown : answer.failure;
      dialled.detail = std::move(answer.detail);
      dialled.early = std::move(answer.early);
    }
  }
  record->dns_ms = dialled.dns_ms;
  if (dialled.dns) record->dns = std::string(net::to_string(*dialled.dns));
  record->connect_ms = dialled.connect_ms;
  record->upstream = dialled.upstream;
  co_return dialled;
}

asio::awaitable<bool> Session::serve_auto_config(const Learned& learned) {
  const auto proxy = pac::choose_proxy(snapshot_->policy(), learned.pac_host, listener_port_);
  if (!proxy) {
    record_.method = learned.head_only ? "HEAD" : "GET";
    record_.http_host = learned.pac_host;
    PendingRecord record(worker_, record_, Clock::now());
    co_return co_await refuse(std::move(record), Language::Http, audit::Reason::BadRequest,
                              "the PAC file names the proxy by the Host it was fetched from, and "
                              "this one is not a host",
                              false);
  }
  const std::string& file = auto_config_file(snapshot_, *proxy);
  // Named, not a temporary in the co_await: GCC 12 mishandles those (see
  // auth/authenticator.cpp).
  const Answer answer = auto_config(file, learned.head_only, learned.keep_alive);
  co_await send(answer, Language::Http, true);
  co_return learned.keep_alive && !stop_.requested();
}

asio::awaitable<void> Session::tunnel(PendingRecord record, const Learned& learned,
                                      tcp::socket upstream, const policy::ClientIdentity& identity,
                                      const policy::Rule* rule, std::string said_already) {
  upstream_ = &upstream;
  // Answer the client: the tunnel is open (SOCKS says from where). What the
  // destination already said (through a parent) follows the answer, ahead
  // of the relay.
  Endpoint bound;
  if (learned.language == Language::Socks4 || learned.language == Language::Socks5) {
    error_code ignored;
    const tcp::endpoint local = upstream.local_endpoint(ignored);
    bound = Endpoint{net::to_ip(local.address()), local.port()};
  }
  Answer established = tunnel_established(learned.language, bound);
  established.bytes += said_already;
  if (!established.bytes.empty()) {
    error_code ec;
    co_await asio::async_write(client_->socket, asio::buffer(established.bytes), await_into(ec));
    if (ec || stop_.requested()) {
      upstream_ = nullptr;
      std::move(record).refuse(
          stop_.requested() ? audit::Reason::Shutdown : audit::Reason::ClientClosed, ec.message());
      co_return;
    }
  }
  record->status = established.status;
  if (learned.hello && learned.hello->ech)
    record->detail = "ech offered; the policy saw the outer SNI";
  // From its open record on, the tunnel is an open tunnel (/connections,
  // the gauge), also while it waits for the client's first bytes below.
  OpenRecord& open = relaying_.emplace(std::move(record).open());
  // Failing closed: no byte goes through before the open record is written.
  if (worker_.options().audit_refuse) {
    const bool written = co_await worker_.audit_written();
    if (!written) {
      end_unrecorded(std::move(open));
      relaying_.reset();
      co_return;
    }
  }

  // Inside a CONNECT tunnel: the ClientHello must not name another host
  // that is not itself allowed (domain fronting). A destination that spoke
  // first has no TLS client in front of it.
  if (learned.check_tunnel_hello && snapshot_->policy().check_tunnel_sni && said_already.empty()) {
    TunnelHello hello =
        co_await read_tunnel_hello(*client_, upstream, server_spoke_, learned.host, learned.port,
                                   *snapshot_, identity, worker_.options());
    open->sni = std::move(hello.sni);
    if (stop_.requested()) {
      upstream_ = nullptr;
      close_open(audit::End::Shutdown, audit::Source::Internal);
      co_return;
    }
    if (hello.refusal) {
      upstream_ = nullptr;
      open.deny_inside(hello.refusal->reason, std::move(hello.refusal->detail));
      close_open(audit::End::Denied, audit::source_of(hello.refusal->reason));
      if (hello.alert) {
        const Answer alert = refusal(Language::Tls, hello.refusal->reason,
                                     AnswerContext{{}, false, snapshot_->policy().deny_alert, {}});
        co_await send(alert, Language::Tls, false);
      }
      co_return;
    }
  }

  // Bytes the client sent before the relay (early data, the peeked hello)
  // go upstream first.
  const std::size_t early = client_->buffer.size();
  error_code ec;
  if (early > 0) co_await asio::async_write(upstream, client_->buffer.data(), await_into(ec));
  // An idle tunnel keeps no buffer.
  client_->buffer = boost::beast::flat_buffer();
  upstream_ = nullptr;
  if (ec || stop_.requested()) {
    open->detail = ec.message();
    close_open(stop_.requested() ? audit::End::Shutdown : audit::End::Reset,
               stop_.requested() ? audit::Source::Internal : audit::Source::Upstream);
    co_return;
  }

  // Relay.
  slot_.relaying();
  source_.reset();
  relay::TunnelOptions options;
  options.force_copy = worker_.options().force_copy;
  options.idle_timeout =
      rule && rule->idle_timeout ? *rule->idle_timeout : worker_.options().idle_timeout;
  options.half_close_timeout = rule && rule->half_close_timeout
                                   ? *rule->half_close_timeout
                                   : worker_.options().half_close_timeout;
  // The coroutines end here: while it relays, the connection is this session
  // object and its tunnel, nothing more (an idle tunnel's memory is what a
  // proxy holds per connection; a suspended coroutine chain would hold kilobytes).
  open->bytes_down = said_already.size();
  tunnel_.emplace(std::move(client_->socket), std::move(upstream), worker_.pipes(), options, early);
  // The client's reading state goes too (and the deadline of asking a
  // parent). Posted: a deadline handler of theirs may already be queued,
  // and runs first.
  asio::post(worker_.io(),
             [reading = std::move(client_), asked = std::move(upstream_deadline_)] {});
  snapshot_.reset();
  tunnel_->start([self = shared_from_this()](const relay::TunnelResult& result) {
    self->relay_ended(result);
  });
}

void Session::relay_ended(const relay::TunnelResult& result) {
  tunnel_.reset();
  OpenRecord& open = *relaying_;
  open->bytes_up = result.bytes_up;
  open->bytes_down += result.bytes_down;  // after what the destination said before the relay
  open->relay =
      result.path == relay::PathUsed::Copy ? audit::RelayPath::Copy : audit::RelayPath::Splice;
  if (result.error) open->detail = result.error.message();
  close_open(end_of(result.end), source_of(result));
}

void Session::close_open(audit::End end, audit::Source source) {
  std::move(*relaying_).close(end, source);
  relaying_.reset();
}

asio::awaitable<bool> Session::forward(PendingRecord record, const Learned& learned,
                                       const policy::ClientIdentity& identity,
                                       const UpstreamProxy* parent) {
  // Through a parent: the request in absolute form, on connections to the
  // parent pooled for every destination.
  const std::string authorization = parent ? parent_authorization(*parent) : std::string();
  HttpForward request(std::move(*learned.http_head), *learned.http_target, worker_.options(),
                      shared_from_this(), NextHop{parent != nullptr, authorization});
  const std::string pool_key = parent ? "parent " + parent->to_string() + ' ' + authorization
                                      : learned.host.name + ' ' + std::to_string(learned.port);
  if (parent) {
    record->upstream_proxy = parent->to_string();
    // Before a pooled connection to the parent may carry it.
    if (auto refused = refused_literal(learned.host, learned.port, *snapshot_, identity)) {
      co_return co_await refuse(std::move(record), Language::Http, audit::Reason::ForbiddenAddress,
                                std::move(*refused), learned.keep_alive);
    }
  }
  std::optional<tcp::socket> upstream;
  error_code ec;
  // Send the head, on a pooled connection if one is left; a pooled connection
  // the server closed meanwhile is replaced once, before anything was answered.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = false;
    upstream.reset();
    if (attempt == 0) {
      if (auto pooled = worker_.upstreams().take(pool_key)) {
        record->upstream = net::format_endpoint(pooled->endpoint);
        upstream.emplace(std::move(pooled->socket));
        reused = true;
      }
    }
    if (!upstream) {
      // (Two statements: GCC 12 mishandles co_await inside ?:.)
      Dialled dialled;
      if (parent) {
        dialled = co_await dial_parent(worker_, *parent, learned.host, learned.port, *snapshot_,
                                       identity, requester());
      } else {
        dialled = co_await dial(worker_, learned.host, learned.port, *snapshot_, identity, nullptr,
                                requester());
      }
      record->dns_ms = dialled.dns_ms;
      if (dialled.dns) record->dns = std::string(net::to_string(*dialled.dns));
      record->connect_ms = dialled.connect_ms;
      record->upstream = dialled.upstream;
      if (dialled.failure != audit::Reason::None) {
        co_return co_await refuse(std::move(record), Language::Http, dialled.failure,
                                  std::move(dialled.detail), learned.keep_alive);
      }
      upstream = std::move(dialled.socket);
    }
    upstream_ = &*upstream;
    if (!upstream_deadline_)
      upstream_deadline_ = std::make_unique<Deadline>(worker_.io().get_executor());
    ec = co_await request.send_head(*upstream, *upstream_deadline_);
    if (!ec || !reused || request.has_body() || !is_retryable(ec)) break;
  }
  if (ec) {
    upstream_ = nullptr;
    co_return co_await refuse(std::move(record), Language::Http, audit::Reason::UpstreamWriteFailed,
                              ec.message(), false);
  }
  record->bytes_up = request.head_bytes();
  OpenRecord open = std::move(record).open();
  // Failing closed: no answer goes back before the open record is written.
  if (worker_.options().audit_refuse) {
    const bool written = co_await worker_.audit_written();
    if (!written) {
      end_unrecorded(std::move(open));
      co_return false;
    }
  }

  const ForwardResult result = co_await request.relay(*client_, *upstream, *upstream_deadline_);
  upstream_ = nullptr;
  open->bytes_up = result.bytes_up;
  open->bytes_down = result.bytes_down;
  if (result.status != 0) open->status = result.status;
  if (!result.error) {
    if (result.reusable) {
      error_code ignored;
      const auto endpoint = upstream->remote_endpoint(ignored);
      worker_.upstreams().put(pool_key, PooledConnection{std::move(*upstream), endpoint});
    }
    std::move(open).close(audit::End::Eof, audit::Source::Upstream);
    co_return result.keep_alive && !stop_.requested();
  }
  open->detail = result.error.message();
  if (result.answered || stop_.requested()) {
    std::move(open).close(stop_.requested() ? audit::End::Shutdown : audit::End::Reset,
                          stop_.requested() ? audit::Source::Internal : audit::Source::Upstream);
    co_return false;
  }
  // Nothing reached the client yet: it gets an answer it can act on.
  const ErrorResponse failure = upstream_failure(result.error);
  open->reason = audit::Reason::UpstreamFailed;
  open->status = failure.status;
  std::move(open).close(audit::End::Reset, audit::Source::Upstream);
  const Answer answer{render(failure), failure.status, true};
  co_await send(answer, Language::Http, true);
  co_return false;
}

void Session::end_unrecorded(OpenRecord open) {
  upstream_ = nullptr;
  open.deny_inside(audit::Reason::AuditUnavailable,
                   "the audit log could not write this connection's open record");
  std::move(open).close(audit::End::Denied, audit::Source::Internal);
}

}  // namespace chokepoint::proxy
