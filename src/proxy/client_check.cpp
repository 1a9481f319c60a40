#include "client_check.hpp"

namespace chokepoint::proxy {

asio::awaitable<ProxyUser> check_proxy_user(auth::Authenticator* authenticator, int thread,
                                            ClientConnection& client, Requester requester,
                                            Learned& learned) {
  ProxyUser user{std::move(learned.user), std::nullopt};
  if (!learned.authorization || !authenticator) co_return user;
  const std::string& header = *learned.authorization;
  const auth::Verdict verdict =
      co_await check_for_client(client, requester, [&](Requester on_behalf) {
        return authenticator->check(thread, header, user.name, on_behalf);
      });
  switch (verdict.outcome) {
    case auth::Outcome::Ok:
      break;
    case auth::Outcome::Abandoned:
      // Nobody to answer: the client hung up, or the proxy is stopping.
      if (requester.cancellation && requester.cancellation->requested()) {
        user.refusal.emplace(audit::Reason::Shutdown,
                             "the proxy stopped during the password check");
      } else {
        user.refusal.emplace(audit::Reason::ClientClosed,
                             "the client closed while its password was being checked");
      }
      break;
    case auth::Outcome::Missing:
      user.refusal.emplace(audit::Reason::AuthRequired, "proxy authentication required");
      break;
    default:
      user.refusal.emplace(audit::Reason::AuthFailed,
                           verdict.detail.empty() ? "proxy authentication failed" : verdict.detail);
      break;
  }
  co_return user;
}

}  // namespace chokepoint::proxy
