// Private to the proxy module: a password check on behalf of a connected
// client. It counts against the client's share of the hashing queue, and is
// abandoned, not computed, when the proxy stops or the client hangs up
// while it waits (a guess must not stay queued after its client left).
#pragma once

#include <cerrno>
#include <memory>
#include <sys/socket.h>

#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/core/cancellation.hpp>

#include "answer.hpp"
#include "client_connection.hpp"
#include "destination_source.hpp"

namespace chokepoint::proxy {

// While it lives, a client that closes (end of stream) or fails requests
// `cancellation`. One that sends more bytes instead (a pipelined request)
// is left alone, and the watch ends: its bytes stay unread for later.
class HangupWatch {
 public:
  HangupWatch(ClientConnection& client, Cancellation& cancellation)
      : socket_(client.socket), watching_(std::make_shared<Cancellation*>(&cancellation)) {
    socket_.async_wait(tcp::socket::wait_read, [watching = watching_, &socket = socket_,
                                                owner = client.owner.lock()](const error_code& ec) {
      if (ec || !*watching) return;
      char byte;
      const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        (*watching)->request();
    });
  }
  ~HangupWatch() {
    *watching_ = nullptr;
    error_code ignored;
    socket_.cancel(ignored);  // nothing else waits on the socket during a check
  }
  HangupWatch(const HangupWatch&) = delete;
  HangupWatch& operator=(const HangupWatch&) = delete;

 private:
  tcp::socket& socket_;
  std::shared_ptr<Cancellation*> watching_;
};

// `check(Requester)` (an Authenticator call) for `client`, ended early by
// the requester's own cancellation or by the client hanging up.
template <class Check>
asio::awaitable<auth::Verdict> check_for_client(ClientConnection& client, Requester requester,
                                                Check check) {
  Cancellation ends;
  if (requester.cancellation && requester.cancellation->requested()) ends.request();
  Cancellation::Registration on_stop(requester.cancellation, [&ends] { ends.request(); });
  HangupWatch watch(client, ends);
  co_return co_await check(Requester{requester.network, &ends});
}

// The proxy user an exchange names (DESIGN.md, "Data flow": identify the
// client): its Proxy-Authorization checked against the users, or the user
// a source already checked (SOCKS5). An empty user with no refusal: the
// exchange names none, and the client is who its address says.
struct ProxyUser {
  std::string name;  // as the client gave it, for the record (even when refused)
  std::optional<Refusal> refusal;
};
asio::awaitable<ProxyUser> check_proxy_user(auth::Authenticator* authenticator, int thread,
                                            ClientConnection& client, Requester requester,
                                            Learned& learned);

}  // namespace chokepoint::proxy
