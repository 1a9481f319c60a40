#include "session.hpp"

#include <chokepoint/audit/policy_terms.hpp>

#include "client_check.hpp"
#include "parent_proxy.hpp"
#include "proxy_header_stage.hpp"
#include "tunnel_hello.hpp"

namespace chokepoint::proxy {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

void start_session(const ConnectionServices& services, ListenerKind kind, tcp::socket socket,
                   const tcp::endpoint& peer, const tcp::endpoint& local,
                   std::shared_ptr<const policy::Snapshot> snapshot, ConnectionSlot slot) {
  const auto executor = socket.get_executor();
  auto session =
      std::make_shared<Session>(services, make_source(kind, services, local), std::move(socket),
                                peer, local, std::move(snapshot), std::move(slot));
  asio::co_spawn(
      executor, [session] { return session->run(); }, asio::detached);
}

Session::Session(const ConnectionServices& services, std::unique_ptr<DestinationSource> source,
                 tcp::socket socket, const tcp::endpoint& peer, const tcp::endpoint& local,
                 std::shared_ptr<const policy::Snapshot> snapshot, ConnectionSlot slot)
    : services_(services),
      slot_(std::move(slot)),
      client_(std::make_unique<ClientConnection>(std::move(socket))),
      source_(std::move(source)),
      snapshot_(std::move(snapshot)),
      client_ip_(net::to_ip(peer.address()).unmapped()),
      network_(services.limits.key(client_ip_)),
      client_text_(net::format_endpoint(peer)),
      listener_port_(local.port()) {}

asio::awaitable<void> Session::run() {
  slot_.attach(*this);
  client_->owner = weak_from_this();
  try {
    if (!slot_.admission()) {
      co_await refuse_admission();
    } else if (co_await accept_proxy_header()) {
      // The first exchange runs even when the proxy is stopping already
      // (this connection was accepted just before): it leaves the
      // connection's record.
      while (co_await exchange() && !stopping()) {
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
  if (tunnel_) {
    tunnel_->stop(relay::EndReason::Shutdown);
    return;
  }
  if (client_) {
    error_code ignored;
    client_->socket.close(ignored);
    // An armed deadline holds the session until it fires: it goes now.
    client_->disarm();
  }
  if (upstream_deadline_) upstream_deadline_->disarm();
}

void Session::begin_record() {
  record_ = audit::Record();
  record_.client = client_text_;
  record_.via = via_;
  record_.mode = source_->mode();
}

asio::awaitable<bool> Session::accept_proxy_header() {
  if (!slot_.from_balancer()) co_return true;
  const ProxyHeader header = co_await read_proxy_header(*client_, services_.options.head_timeout);
  switch (header.outcome) {
    case ProxyHeader::Outcome::Gone:
      co_return false;
    case ProxyHeader::Outcome::HealthCheck:
      ++services_.metrics.health_checks;
      co_return false;
    case ProxyHeader::Outcome::Refused: {
      begin_record();
      PendingRecord record(services_.records, record_, Clock::now());
      co_await refuse(std::move(record), source_->early_language(),
                      Refusal{header.refusal, header.detail}, false);
      co_return false;
    }
    case ProxyHeader::Outcome::Client:
      break;
  }
  // From here on the client is the one the balancer named, for everything:
  // its role, its limits, its records.
  via_ = std::exchange(client_text_, header.client.to_string());
  client_ip_ = header.client.address;
  network_ = services_.limits.key(client_ip_);
  if (!slot_.admit_client(client_ip_)) {
    co_await refuse_admission();
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Session::refuse_admission() {
  begin_record();
  PendingRecord record(services_.records, record_, Clock::now());
  const Admission& admission = slot_.admission();
  const bool audit_unavailable = admission.refusal == audit::Reason::AuditUnavailable;
  Language language = source_->early_language();
  if (audit_unavailable && source_->answers_after_request()) {
    // Failing closed is not a flood to shed: the client is told once its
    // request says how (SOCKS5 0x01, SOCKS4 rejected).
    const Learned learned = co_await source_->next(*client_, *record.operator->(), requester());
    if (learned.outcome == Learned::Outcome::Destination) language = learned.language;
  }
  std::string detail =
      audit_unavailable
          ? "the audit log cannot write, and nothing goes out unrecorded; try again later"
          : "over the proxy's " + std::string(audit::to_string(admission.refusal)) +
                "; try again later";
  co_await refuse(std::move(record), language,
                  Refusal{admission.refusal, std::move(detail), admission.retry_after}, false);
}

policy::ClientIdentity Session::identify_client() {
  // The manager's word on the client's address, else its CIDR (a proxy
  // user may refine it once the request is read).
  computer_.reset();
  if (services_.inventory) {
    if (const inventory::Client* known = services_.inventory->find(client_ip_)) {
      computer_ = policy::KnownComputer{inventory::to_string(known->role), known->version};
      record_.computer = known->name;
      record_.computer_id = known->id;
    }
  }
  const policy::ClientIdentity identity =
      snapshot_->identify(&client_ip_, {}, computer_ ? &*computer_ : nullptr);
  record_.role = snapshot_->role_label(identity);
  record_.version = snapshot_->version_label(identity);
  record_.identity = policy::to_string(identity.source);
  return identity;
}

asio::awaitable<bool> Session::exchange() {
  const auto started = Clock::now();
  begin_record();
  policy::ClientIdentity identity = identify_client();
  Learned learned = co_await source_->next(*client_, record_, requester());
  if (learned.outcome == Learned::Outcome::Gone) {
    // A connection the proxy stopped before it read its first request still
    // leaves its record (a later idle gap between requests leaves none).
    if (stopping() && !exchanged_) {
      PendingRecord record(services_.records, record_, started);
      std::move(record).refuse(audit::Reason::Shutdown,
                               "the proxy stopped before the request was read");
    }
    co_return false;
  }
  exchanged_ = true;
  if (auto forged = forged_proxy_header(*client_))
    learned =
        Learned::refused(audit::Reason::ProxyHeaderRefused, std::move(*forged), learned.language);
  if (learned.outcome == Learned::Outcome::AutoConfig)
    co_return co_await serve_auto_config(learned);
  PendingRecord record(services_.records, record_, started);
  std::optional<Refusal> refused;
  if (learned.outcome == Learned::Outcome::Refused) {
    refused = Refusal{learned.refusal, std::move(learned.detail)};
  } else {
    refused = co_await authenticate(record, learned, identity);
  }
  const policy::Rule* rule = nullptr;
  if (!refused) refused = decide(record, learned, identity, rule);
  if (refused)
    co_return co_await refuse(std::move(record), learned.language, std::move(*refused),
                              learned.keep_alive);
  const UpstreamProxy* parent = parent_for(rule, services_.options);
  if (!learned.tunnel) co_return co_await forward(std::move(record), learned, identity, parent);
  co_await tunnel(std::move(record), learned, identity, rule);
  co_return false;
}

asio::awaitable<std::optional<Refusal>> Session::authenticate(PendingRecord& record,
                                                              Learned& learned,
                                                              policy::ClientIdentity& identity) {
  // A proxy user's mapping wins over the address's.
  ProxyUser user = co_await check_proxy_user(services_.authenticator, services_.thread, *client_,
                                             requester(), learned);
  if (!user.name.empty()) record->user = user.name;
  if (user.refusal || user.name.empty()) co_return std::move(user.refusal);
  if (services_.limits.rate_by_user()) {
    const auto wait =
        services_.limits.take_rate(ConnectionLimits::user_key(user.name), Clock::now());
    if (wait)
      co_return Refusal{audit::Reason::RateLimited,
                        "over the proxy's rate limit for user " + user.name, *wait};
  }
  identity = snapshot_->identify(&client_ip_, user.name, computer_ ? &*computer_ : nullptr);
  record->role = snapshot_->role_label(identity);
  record->version = snapshot_->version_label(identity);
  record->identity = policy::to_string(identity.source);
  co_return std::nullopt;
}

std::optional<Refusal> Session::decide(PendingRecord& record, const Learned& learned,
                                       const policy::ClientIdentity& identity,
                                       const policy::Rule*& rule) {
  if (learned.hello) {
    if (auto refused = ech_refusal(*learned.hello, *snapshot_))
      return Refusal{refused->reason, std::move(refused->detail)};
  }
  const policy::Decision decision =
      snapshot_->decide(learned.host, learned.port, identity, learned.path);
  note_decision(*record.operator->(), decision, *snapshot_, learned.host, learned.port, identity);
  if (!decision.let_out())
    return Refusal{audit::reason_of(decision.reason), record.fields().detail};
  rule = decision.match.rule;
  if (rule && rule->max_rate) {
    const auto wait =
        services_.limits.take_rule_rate(rule->id, *rule->max_rate, client_ip_, Clock::now());
    if (wait)
      return Refusal{audit::Reason::RateLimited,
                     "over rule " + rule->id + "'s rate for this client", *wait};
  }
  return std::nullopt;
}

asio::awaitable<bool> Session::refuse(PendingRecord record, Language language, Refusal refused,
                                      bool keep_alive) {
  AnswerContext context{refused.detail, keep_alive, snapshot_->policy().deny_alert,
                        services_.options.auth_realm};
  context.retry_after = refused.retry_after;
  context.next_hop = record.fields().upstream_proxy;
  context.received_status = record.fields().upstream_proxy_status;
  const Answer answer = refusal(language, refused.reason, context);
  record->status = answer.status;
  std::move(record).refuse(refused.reason, std::move(refused.detail));
  // A refusal for a limit must cost as little as possible: no waiting for
  // the client, whatever it does.
  const bool linger = audit::source_of(refused.reason) != audit::Source::Limit;
  co_await send(answer, language, linger);
  co_return !answer.close && !stopping();
}

asio::awaitable<void> Session::send(const Answer& answer, Language language, bool linger) {
  if (answer.bytes.empty() || stopping()) co_return;
  const error_code ec = co_await client_->write(answer.bytes, services_.options.head_timeout);
  if (!answer.close || ec || language != Language::Http) co_return;
  co_await client_->drain_before_close(linger);
}

}  // namespace chokepoint::proxy
