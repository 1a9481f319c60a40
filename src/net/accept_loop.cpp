#include <chokepoint/net/accept_loop.hpp>

namespace chokepoint::net {

AcceptLoop::AcceptLoop(tcp::acceptor& acceptor, Accepted accepted, Refused refused)
    : acceptor_(acceptor),
      accepted_(std::move(accepted)),
      refused_(std::move(refused)),
      backoff_(acceptor.get_executor()) {}

void AcceptLoop::start() {
  acceptor_.async_accept(peer_, [this](const error_code& ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void AcceptLoop::on_accept(const error_code& ec, tcp::socket socket) {
  // Closed: stopping or draining.
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec) {
    accepted_(std::move(socket), peer_);
    start();
    return;
  }
  if (refused_(ec)) {
    start();
    return;
  }
  backoff_.expires_after(kAcceptBackoff);
  backoff_.async_wait([this](const error_code& wait_ec) {
    if (!wait_ec && acceptor_.is_open()) start();
  });
}

}  // namespace chokepoint::net
