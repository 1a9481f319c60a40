#include <chokepoint/net/accept_loop.hpp>
#include <chokepoint/net/owned_socket.hpp>

namespace chokepoint::net {

AcceptLoop::AcceptLoop(tcp::acceptor& acceptor, Accepted accepted, Refused refused)
    : acceptor_(acceptor),
      accepted_(std::move(accepted)),
      refused_(std::move(refused)),
      backoff_(acceptor.get_executor()) {}

void AcceptLoop::start() {
  // accept4 must find the queue empty rather than wait on it.
  error_code ignored;
  acceptor_.native_non_blocking(true, ignored);
  asio::post(acceptor_.get_executor(), [this] { accept_queued(); });
}

// Starting a wait re-arms the listener in epoll (Asio's EPOLL_CTL_MOD), so a
// connection queued after accept4 found the queue empty still wakes it.
void AcceptLoop::wait_for_connections() {
  acceptor_.async_wait(tcp::acceptor::wait_read, [this](const error_code& ec) {
    if (ec != asio::error::operation_aborted) accept_queued();
  });
}

void AcceptLoop::accept_queued() {
  for (int taken = 0; taken < kAcceptsPerTurn; ++taken) {
    // Closed (stopping or draining), perhaps by the handler of the last.
    if (!acceptor_.is_open()) return;
    tcp::socket socket(acceptor_.get_executor());
    tcp::endpoint peer;
    const error_code ec = accept_owned(acceptor_, socket, peer);
    if (ec == asio::error::would_block) return wait_for_connections();
    if (ec) return on_refused(ec);
    accepted_(std::move(socket), peer);
  }
  asio::post(acceptor_.get_executor(), [this] { accept_queued(); });
}

void AcceptLoop::on_refused(const error_code& ec) {
  if (refused_(ec)) return accept_queued();
  backoff_.expires_after(kAcceptBackoff);
  backoff_.async_wait([this](const error_code& wait_ec) {
    if (!wait_ec) accept_queued();
  });
}

}  // namespace chokepoint::net
