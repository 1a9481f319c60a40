// The plain HTTP stages of a session (session.hpp): a request forwarded
// after its decision (http_forward.hpp), and the PAC file served.
#include "auto_config.hpp"
#include "parent_proxy.hpp"
#include "session.hpp"

namespace chokepoint::proxy {

asio::awaitable<bool> Session::forward(PendingRecord record, const Learned& learned,
                                       const policy::ClientIdentity& identity,
                                       const UpstreamProxy* parent) {
  if (parent) {
    // Before a pooled connection to the parent may carry it.
    if (auto refused = refused_literal(learned.host, learned.port, *snapshot_, identity)) {
      record->upstream_proxy = parent->to_string();
      co_return co_await refuse(std::move(record), Language::Http,
                                Refusal{audit::Reason::ForbiddenAddress, std::move(*refused)},
                                learned.keep_alive);
    }
  }
  HttpForward request(std::move(*learned.http_head), *learned.http_target, services_.options,
                      services_.upstreams, shared_from_this(), parent);
  if (!upstream_deadline_)
    upstream_deadline_ = std::make_unique<Deadline>(client_->socket.get_executor());
  const UpstreamRequest upstream{learned.host, learned.port, *snapshot_, identity,
                                 parent,       nullptr,      false};
  const auto connect = [&] {
    return connect_upstream(services_.dialer, services_.options, upstream, requester());
  };
  Cancellation::Registration closes(&stop_, [&request] { request.close_upstream(); });
  SentHead sent = co_await request.send_head(connect, *upstream_deadline_);
  if (parent) record->upstream_proxy = parent->to_string();
  if (sent.dialled) note_upstream(*record.operator->(), *sent.dialled);
  if (!sent.reused.empty()) record->upstream = sent.reused;
  if (sent.dialled && sent.dialled->failure != audit::Reason::None) {
    co_return co_await refuse(std::move(record), Language::Http,
                              Refusal{sent.dialled->failure, std::move(sent.dialled->detail)},
                              learned.keep_alive);
  }
  if (sent.error) {
    co_return co_await refuse(std::move(record), Language::Http,
                              Refusal{audit::Reason::UpstreamWriteFailed, sent.error.message()},
                              false);
  }
  record->bytes_up = request.head_bytes();
  auto open = co_await open_recorded(std::move(record));
  if (!open) co_return false;
  const ForwardResult result = co_await request.relay(*client_, *upstream_deadline_);
  co_return co_await forwarded(std::move(*open), result);
}

asio::awaitable<bool> Session::forwarded(OpenRecord open, const ForwardResult& result) {
  open->bytes_up = result.bytes_up;
  open->bytes_down = result.bytes_down;
  if (result.status != 0) open->status = result.status;
  if (!result.error) {
    std::move(open).close(audit::End::Eof, audit::Source::Upstream);
    co_return result.keep_alive && !stopping();
  }
  open->detail = result.error.message();
  if (result.answered || stopping()) {
    std::move(open).close(stopping() ? audit::End::Shutdown : audit::End::Reset,
                          stopping() ? audit::Source::Internal : audit::Source::Upstream);
    co_return false;
  }
  // Nothing reached the client yet: it gets an answer it can act on.
  const ErrorResponse failure = upstream_failure(result.error);
  open->reason = audit::Reason::UpstreamFailed;
  open->status = failure.status;
  std::move(open).close(audit::End::Reset, audit::Source::Upstream);
  co_await send(Answer{render(failure), failure.status, true}, Language::Http, true);
  co_return false;
}

asio::awaitable<bool> Session::serve_auto_config(const Learned& learned) {
  const auto proxy = pac::choose_proxy(snapshot_->policy(), learned.pac_host, listener_port_);
  if (!proxy) {
    record_.method = learned.head_only ? "HEAD" : "GET";
    record_.http_host = learned.pac_host;
    PendingRecord record(services_.records, record_, std::chrono::steady_clock::now());
    co_return co_await refuse(std::move(record), Language::Http,
                              Refusal{audit::Reason::BadRequest,
                                      "the PAC file names the proxy by the Host it was fetched "
                                      "from, and this one is not a host"},
                              false);
  }
  const std::string& file = auto_config_file(snapshot_, *proxy);
  // Named, not a temporary in the co_await: GCC 12 mishandles those (see
  // auth/authenticator.cpp).
  const Answer answer = auto_config(file, learned.head_only, learned.keep_alive);
  co_await send(answer, Language::Http, true);
  co_return learned.keep_alive && !stopping();
}

}  // namespace chokepoint::proxy
