// The tunnel stages of a session (session.hpp): from the decision that lets
// a tunnel out to its close record. Dial or ask the parent (upstream.hpp),
// answer the client, open the record, check the ClientHello inside, pass
// what the client sent early, hand the sockets to the relay.
#include <boost/asio/write.hpp>

#include "parent_proxy.hpp"
#include "session.hpp"
#include "tunnel_hello.hpp"

namespace chokepoint::proxy {

asio::awaitable<void> Session::tunnel(PendingRecord record, const Learned& learned,
                                      const policy::ClientIdentity& identity,
                                      const policy::Rule* rule) {
  const bool require_match =
      learned.original_destination &&
      snapshot_->policy().original_destination == policy::OriginalDestinationCheck::RequireMatch;
  const UpstreamRequest request{learned.host,
                                learned.port,
                                *snapshot_,
                                identity,
                                parent_for(rule, services_.options),
                                require_match ? &*learned.original_destination : nullptr,
                                true};
  Dialled dialled =
      co_await connect_upstream(services_.dialer, services_.options, request, requester());
  note_upstream(*record.operator->(), dialled);
  if (dialled.failure != audit::Reason::None) {
    co_await refuse(std::move(record), learned.language,
                    Refusal{dialled.failure, std::move(dialled.detail)}, false);
    co_return;
  }
  tcp::socket& upstream = *dialled.socket;
  if (!co_await answer_established(record, learned, upstream, dialled.early)) co_return;
  // From its open record on, the tunnel is an open tunnel (/connections,
  // the gauge), also while it waits for the client's first bytes.
  auto open = co_await open_recorded(std::move(record));
  if (!open) co_return;
  relaying_.emplace(std::move(*open));
  // A destination that spoke first has no TLS client in front of it.
  if (learned.check_tunnel_hello && snapshot_->policy().check_tunnel_sni && dialled.early.empty()) {
    if (!co_await check_tunnel_hello(learned, upstream, identity)) co_return;
  }
  if (!co_await pass_early_bytes(upstream)) co_return;
  start_relay(std::move(upstream), rule, std::move(dialled.early));
}

asio::awaitable<bool> Session::answer_established(PendingRecord& record, const Learned& learned,
                                                  const tcp::socket& upstream,
                                                  const std::string& said_already) {
  // SOCKS says where the proxy dialed from. What the destination already
  // said (through a parent) follows the answer, ahead of the relay.
  Endpoint bound;
  if (learned.language == Language::Socks4 || learned.language == Language::Socks5) {
    error_code ignored;
    const tcp::endpoint local = upstream.local_endpoint(ignored);
    bound = Endpoint{net::to_ip(local.address()), local.port()};
  }
  Answer established = tunnel_established(learned.language, bound);
  established.bytes += said_already;
  if (!established.bytes.empty()) {
    const error_code ec =
        co_await client_->write(established.bytes, services_.options.head_timeout);
    if (ec || stopping()) {
      std::move(record).refuse(stopping() ? audit::Reason::Shutdown : audit::Reason::ClientClosed,
                               ec.message());
      co_return false;
    }
  }
  record->status = established.status;
  if (learned.hello && learned.hello->ech)
    record->detail = "ech offered; the policy saw the outer SNI";
  co_return true;
}

asio::awaitable<bool> Session::pass_early_bytes(tcp::socket& upstream) {
  // Bytes the client sent before the relay (early data, the peeked hello)
  // go upstream first.
  error_code ec;
  if (client_->buffer.size() > 0) {
    Cancellation::Registration closes(&stop_, [&upstream] {
      error_code ignored;
      upstream.close(ignored);
    });
    co_await asio::async_write(upstream, client_->buffer.data(), await_into(ec));
  }
  if (!ec && !stopping()) co_return true;
  (*relaying_)->detail = ec.message();
  close_open(stopping() ? audit::End::Shutdown : audit::End::Reset,
             stopping() ? audit::Source::Internal : audit::Source::Upstream);
  co_return false;
}

asio::awaitable<bool> Session::check_tunnel_hello(const Learned& learned, tcp::socket& upstream,
                                                  const policy::ClientIdentity& identity) {
  OpenRecord& open = *relaying_;
  TunnelHello hello;
  {
    Cancellation::Registration closes(&stop_, [&upstream] {
      error_code ignored;
      upstream.close(ignored);
    });
    hello = co_await read_tunnel_hello(*client_, upstream, server_spoke_, learned.host,
                                       learned.port, *snapshot_, identity, services_.options);
  }
  open->sni = std::move(hello.sni);
  if (stopping()) {
    close_open(audit::End::Shutdown, audit::Source::Internal);
    co_return false;
  }
  if (!hello.refusal) co_return true;
  open.deny_inside(hello.refusal->reason, std::move(hello.refusal->detail));
  close_open(audit::End::Denied, audit::source_of(hello.refusal->reason));
  if (hello.alert) {
    const Answer alert = refusal(Language::Tls, hello.refusal->reason,
                                 AnswerContext{{}, false, snapshot_->policy().deny_alert, {}});
    co_await send(alert, Language::Tls, false);
  }
  co_return false;
}

void Session::start_relay(tcp::socket upstream, const policy::Rule* rule,
                          std::string said_already) {
  const auto executor = client_->socket.get_executor();
  const std::size_t early = client_->buffer.size();
  // An idle tunnel keeps no buffer.
  client_->buffer = boost::beast::flat_buffer();
  slot_.relaying();
  source_.reset();
  const ProxyOptions& options = services_.options;
  relay::TunnelOptions tunnel_options;
  tunnel_options.force_copy = options.force_copy;
  tunnel_options.idle_timeout =
      rule && rule->idle_timeout ? *rule->idle_timeout : options.idle_timeout;
  tunnel_options.half_close_timeout =
      rule && rule->half_close_timeout ? *rule->half_close_timeout : options.half_close_timeout;
  // The coroutines end here: while it relays, the connection is this session
  // object and its tunnel, nothing more (an idle tunnel's memory is what a
  // proxy holds per connection; a suspended coroutine chain would hold kilobytes).
  (*relaying_)->bytes_down = said_already.size();
  tunnel_.emplace(std::move(client_->socket), std::move(upstream), services_.pipes, tunnel_options,
                  early);
  // The client's reading state goes too. Posted: a deadline handler of its
  // own may already be queued, and runs first.
  asio::post(executor, [reading = std::move(client_)] {});
  snapshot_.reset();
  tunnel_->start([self = shared_from_this()](const relay::TunnelResult& result) {
    self->relay_ended(result);
  });
}

void Session::relay_ended(const relay::TunnelResult& result) {
  tunnel_.reset();
  std::move(*relaying_).close(result);
  relaying_.reset();
}

void Session::close_open(audit::End end, audit::Source source) {
  std::move(*relaying_).close(end, source);
  relaying_.reset();
}

}  // namespace chokepoint::proxy
