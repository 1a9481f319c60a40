// The SOCKS listener's destination (RFC 1928, RFC 1929; SOCKS4 and 4a): one
// request per connection, CONNECT only. The handshake's own messages before
// the request (the method selection, the username/password status) belong
// to learning the destination, so this source sends them; the answer to the
// request itself is the session's, in the Socks4 or Socks5 language.
//
// With a users file the listener requires RFC 1929 credentials, checked
// against the same users as HTTP proxy authentication, so a user maps to the
// same role in both protocols; SOCKS4, which has no credentials, is refused
// then. SOCKS4's user id is recorded, never trusted as an identity.
#include <boost/asio/write.hpp>

#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/socks/handshake.hpp>

#include "client_check.hpp"
#include "destination_source.hpp"

namespace chokepoint::proxy {
namespace {

using audit::Reason;

class SocksSource final : public DestinationSource {
 public:
  SocksSource(const ProxyOptions& options, auth::Authenticator* authenticator, int thread)
      : options_(options), authenticator_(authenticator), thread_(thread) {}

  audit::Mode mode() const override { return audit::Mode::Socks; }
  bool answers_after_request() const override { return true; }

  asio::awaitable<Learned> next(ClientConnection& client, audit::Record& record,
                                Requester requester) override {
    if (done_) co_return Learned{};
    done_ = true;
    auth::Authenticator* const authenticator = authenticator_;
    std::string user;
    bool method_refused = false;
    bool credentials_refused = false;
    std::string refusal_detail = "SOCKS5 username/password refused";
    client.arm(options_.head_timeout);
    while (true) {
      const socks::Step step = handshake_.feed(client.unread());
      client.buffer.consume(step.consumed);
      if (step.status == socks::Status::NeedMore) {
        error_code ec;
        const bool nothing_yet = handshake_.consumed() == 0 && client.buffer.size() == 0;
        client.commit(co_await client.read_some(ec));
        if (client.deadline.expired()) {
          co_return Learned::refused(Reason::RequestHeadTimeout,
                                     "the SOCKS handshake did not complete within the timeout",
                                     Language::Silent);
        }
        if (ec && nothing_yet) co_return Learned{};  // connected and left: nothing asked
        if (ec) {
          co_return Learned::refused(Reason::ClientClosed,
                                     "the client closed in the middle of its SOCKS handshake",
                                     Language::Silent);
        }
        continue;
      }
      if (step.status == socks::Status::ChooseMethod) {
        const std::uint8_t method =
            socks::select_method(handshake_.offered_methods(), authenticator != nullptr);
        method_refused = method == socks::kMethodNoAcceptable;
        co_await send(client, handshake_.method_selected(method));
        continue;
      }
      if (step.status == socks::Status::CheckCredentials) {
        std::string name(handshake_.username());
        std::string password(handshake_.password());
        record.user = name;
        const int thread = thread_;
        const auth::Verdict verdict =
            co_await check_for_client(client, requester, [&](Requester on_behalf) {
              return authenticator->check_password(thread, name, password, on_behalf);
            });
        if (verdict.outcome == auth::Outcome::Abandoned) {
          client.disarm();
          const bool stopping = requester.cancellation && requester.cancellation->requested();
          co_return Learned::refused(stopping ? Reason::Shutdown : Reason::ClientClosed,
                                     stopping
                                         ? "the proxy stopped during the password check"
                                         : "the client closed while its password was being checked",
                                     Language::Silent);
        }
        credentials_refused = verdict.outcome != auth::Outcome::Ok;
        if (!verdict.detail.empty()) refusal_detail = verdict.detail;
        if (!credentials_refused) user = std::move(name);
        co_await send(client, handshake_.credentials_checked(!credentials_refused));
        continue;
      }
      if (step.status == socks::Status::Request) break;
      // NotSocks or Error: the handshake says what to send, if anything.
      co_await send(client, handshake_.error().reply);
      client.disarm();
      if (credentials_refused) {
        co_return Learned::refused(Reason::AuthFailed, std::move(refusal_detail), Language::Silent);
      }
      if (method_refused && authenticator) {
        co_return Learned::refused(Reason::AuthRequired,
                                   "this proxy requires SOCKS5 username/password authentication",
                                   Language::Silent);
      }
      co_return Learned::refused(Reason::BadRequest, std::string(handshake_.error().reason),
                                 Language::Silent);
    }
    client.disarm();
    co_return learned(record, std::move(user), authenticator != nullptr);
  }

 private:
  Learned learned(audit::Record& record, std::string user, bool credentials_required) {
    const socks::Request& request = handshake_.request();
    const bool v4 = request.version == socks::Version::V4;
    const Language language = v4 ? Language::Socks4 : Language::Socks5;
    record.socks_version = request.socks4a() ? "4a" : v4 ? "4" : "5";
    if (!v4) {
      record.socks_method =
          handshake_.method() == socks::kMethodUsernamePassword ? "username_password" : "no_auth";
    }
    record.socks_user_id = std::string(request.user_id);
    if (v4 && credentials_required) {
      return Learned::refused(Reason::AuthRequired,
                              "SOCKS4 carries no credentials, and this proxy requires them",
                              language);
    }
    Learned l = Learned::destination();
    l.language = language;
    l.tunnel = true;
    l.check_tunnel_hello = true;
    l.user = std::move(user);
    if (request.type == socks::AddressType::Domain) {
      const HostError error = normalize_host(request.domain, l.host);
      if (error != HostError::None) {
        record.host = std::string(request.domain);
        return Learned::refused(Reason::BadRequest,
                                "the SOCKS request names no host: " + std::string(to_string(error)),
                                language);
      }
    } else {
      // An address is decided as an address: only CIDR rules can let it out.
      l.host.address = request.address.unmapped();
      l.host.kind = l.host.address.is_v4() ? HostKind::Ipv4 : HostKind::Ipv6;
      l.host.name = l.host.address.to_string();
    }
    l.port = request.port;
    record.host = l.host.name;
    record.port = l.port;
    if (l.port == 0) return Learned::refused(Reason::BadRequest, "port 0", language);
    return l;
  }

  static asio::awaitable<void> send(ClientConnection& client, const socks::ServerMessage& message) {
    if (message.empty()) co_return;
    error_code ec;
    co_await asio::async_write(client.socket,
                               asio::buffer(message.bytes().data(), message.bytes().size()),
                               await_into(ec));
  }

  const ProxyOptions& options_;
  auth::Authenticator* authenticator_;
  int thread_;
  socks::ServerHandshake handshake_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<DestinationSource> socks_source(const ProxyOptions& options,
                                                auth::Authenticator* authenticator, int thread) {
  return std::make_unique<SocksSource>(options, authenticator, thread);
}

}  // namespace chokepoint::proxy
