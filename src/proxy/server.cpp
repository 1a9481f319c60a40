#include <random>
#include <sys/socket.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include <chokepoint/proxy/explicit_session.hpp>
#include <chokepoint/proxy/server.hpp>

namespace chokepoint::proxy {
namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
constexpr int kBacklog = 4096;
// How long stopping waits for connections still resolving or dialing.
constexpr std::chrono::seconds kStopGrace{2};

// A short tag unique to this process start, so ids never repeat across restarts.
std::string process_tag() {
  std::random_device random;
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%08x", random());
  return buffer;
}

// Connections still resolving or dialing get a moment to write their records;
// then the loop ends whatever is left.
void finish_stopping(Worker& worker, std::chrono::steady_clock::time_point deadline) {
  if (worker.sessions().empty() || std::chrono::steady_clock::now() >= deadline) {
    worker.io().stop();
    return;
  }
  auto poll = std::make_shared<asio::steady_timer>(worker.io(), std::chrono::milliseconds(20));
  poll->async_wait(
      [&worker, deadline, poll](const error_code&) { finish_stopping(worker, deadline); });
}

}  // namespace

Server::Server(ProxyOptions options, std::shared_ptr<const policy::Snapshot> snapshot,
               audit::AuditLog& audit, std::unique_ptr<auth::Authenticator> authenticator)
    : options_(std::move(options)),
      snapshot_(std::move(snapshot)),
      audit_(audit),
      authenticator_(std::move(authenticator)),
      resolver_(4),
      limits_(options_.max_connections, options_.max_connections_per_client) {
  const std::string tag = process_tag();
  for (int i = 0; i < options_.threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, options_, resolver_, audit_, limits_,
                                                authenticator_.get(), snapshot_, tag));
  }
  acceptors_.resize(workers_.size());
}

Server::~Server() {
  stop();
}

bool Server::bind(std::string& error) {
  for (const Endpoint& wanted : options_.listen) {
    tcp::endpoint endpoint = net::to_endpoint(wanted.address, wanted.port);
    for (auto& worker : workers_) {
      auto acceptor = std::make_unique<tcp::acceptor>(worker->io());
      error_code ec;
      acceptor->open(endpoint.protocol(), ec);
      if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor->set_option(ReusePort(true), ec);
      if (!ec && endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
      if (!ec) acceptor->bind(endpoint, ec);
      if (!ec) acceptor->listen(kBacklog, ec);
      if (ec) {
        error = "cannot listen on " + wanted.to_string() + ": " + ec.message();
        return false;
      }
      // Port 0: every other thread joins the port the kernel gave the first.
      endpoint = acceptor->local_endpoint(ec);
      acceptors_[static_cast<std::size_t>(worker->index())].push_back(std::move(acceptor));
    }
    bound_.push_back(Endpoint{wanted.address, endpoint.port()});
  }
  return true;
}

void Server::start() {
  for (auto& worker : workers_) {
    for (auto& acceptor : acceptors_[static_cast<std::size_t>(worker->index())])
      accept(*worker, *acceptor);
    threads_.emplace_back([w = worker.get()] { w->run(); });
  }
}

void Server::accept(Worker& worker, tcp::acceptor& acceptor) {
  acceptor.async_accept(worker.io(), [this, &worker, &acceptor](const error_code& ec,
                                                                tcp::socket socket) {
    if (ec == asio::error::operation_aborted || worker.stopping()) return;
    if (!ec) {
      const LimitVerdict admitted = admit(worker, socket);
      start_explicit_session(worker, std::move(socket), admitted);
      accept(worker, acceptor);
      return;
    }
    // Out of descriptors or memory: back off instead of spinning on accept.
    auto timer = std::make_shared<asio::steady_timer>(worker.io(), std::chrono::milliseconds(100));
    timer->async_wait(
        [this, &worker, &acceptor, timer](const error_code&) { accept(worker, acceptor); });
  });
}

LimitVerdict Server::admit(Worker& worker, const tcp::socket& socket) {
  error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) return LimitVerdict::Ok;  // the client is already gone; its session will notice
  const std::size_t pending_share = std::max<std::size_t>(
      1, options_.max_pending_heads / static_cast<std::size_t>(options_.threads));
  if (options_.max_pending_heads != 0 && worker.handshakes() >= pending_share) {
    return LimitVerdict::PendingHeads;
  }
  return limits_.acquire(net::to_ip(remote.address()));
}

void Server::replace_policy(std::shared_ptr<const policy::Snapshot> snapshot) {
  for (auto& worker : workers_) {
    asio::post(worker->io(), [w = worker.get(), snapshot] { w->set_snapshot(snapshot); });
  }
}

void Server::stop() {
  std::lock_guard lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& worker : workers_) {
    auto& acceptors = acceptors_[static_cast<std::size_t>(worker->index())];
    asio::post(worker->io(), [w = worker.get(), &acceptors] {
      for (auto& acceptor : acceptors) {
        error_code ignored;
        acceptor->close(ignored);
      }
      w->stop();
      finish_stopping(*w, std::chrono::steady_clock::now() + kStopGrace);
    });
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace chokepoint::proxy
