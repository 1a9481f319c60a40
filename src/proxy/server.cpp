#include <netinet/tcp.h>
#include <random>
#include <sys/socket.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include <chokepoint/log/log.hpp>
#include <chokepoint/net/options.hpp>
#include <chokepoint/net/original_dst.hpp>
#include <chokepoint/proxy/server.hpp>

namespace chokepoint::proxy {
namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
constexpr int kBacklog = 4096;
// After a failed accept (out of descriptors or memory): count as not ready
// for a while.
constexpr std::chrono::milliseconds kAcceptFailingFor{2'000};

// A short tag unique to this process start, so ids never repeat across restarts.
std::string process_tag() {
  std::random_device random;
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%08x", random());
  return buffer;
}

}  // namespace

Server::Server(ProxyOptions options, std::shared_ptr<const policy::Snapshot> snapshot,
               audit::AuditLog& audit, std::unique_ptr<auth::Authenticator> authenticator)
    : options_(std::move(options)),
      snapshot_(std::move(snapshot)),
      audit_(audit),
      authenticator_(std::move(authenticator)),
      dns_(net::dns_cache_options(options_)),
      limits_(LimitOptions{options_.max_connections, options_.max_connections_per_client,
                           options_.max_pending_heads_per_client, options_.max_buffer_memory,
                           options_.max_rate_per_client, !options_.users_file.empty(),
                           options_.client_prefixes()}) {
  if (options_.audit_refuse) limits_.refuse_while_unavailable(&audit_);
  const std::string tag = process_tag();
  for (int i = 0; i < options_.threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, options_, dns_, audit_, limits_,
                                                authenticator_.get(), snapshot_, tag));
  }
  listeners_.resize(workers_.size());
}

Server::~Server() {
  stop();
}

bool Server::bind(std::string& error) {
  for (const Endpoint& e : options_.listen) {
    if (!bind_one(ListenerKind::Explicit, e, error)) return false;
  }
  for (const Endpoint& e : options_.transparent) {
    if (!bind_one(ListenerKind::Transparent, e, error)) return false;
  }
  for (const Endpoint& e : options_.tproxy) {
    if (!bind_one(ListenerKind::Tproxy, e, error)) return false;
  }
  for (const Endpoint& e : options_.sni_listen) {
    if (!bind_one(ListenerKind::Sni, e, error)) return false;
  }
  for (const Endpoint& e : options_.socks_listen) {
    if (!bind_one(ListenerKind::Socks, e, error)) return false;
  }
  return true;
}

bool Server::bind_one(ListenerKind kind, const Endpoint& wanted, std::string& error) {
  tcp::endpoint endpoint = net::to_endpoint(wanted.address, wanted.port);
  for (auto& worker : workers_) {
    auto acceptor = std::make_unique<tcp::acceptor>(worker->io());
    error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->set_option(ReusePort(true), ec);
    if (!ec && endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    // Accepted sockets inherit TCP_NODELAY: one setsockopt here instead of one per connection.
    if (!ec) acceptor->set_option(tcp::no_delay(true), ec);
    if (!ec && kind == ListenerKind::Tproxy)
      net::set_transparent(*acceptor, endpoint.address().is_v6(), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(kBacklog, ec);
    // Clients of these listeners speak first: wake up once their bytes are
    // there (the kernel hands the connection over anyway after the delay).
    if (!ec && kind != ListenerKind::Explicit) {
      const int seconds = 1;
      ::setsockopt(acceptor->native_handle(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds,
                   sizeof seconds);
    }
    if (ec) {
      error = "cannot listen on " + wanted.to_string() + ": " + ec.message();
      return false;
    }
    // Port 0: every other thread joins the port the kernel gave the first.
    endpoint = acceptor->local_endpoint(ec);
    listeners_[static_cast<std::size_t>(worker->index())].push_back(
        Listener{std::move(acceptor), kind, endpoint, nullptr});
  }
  bound_.push_back(Bound{kind, Endpoint{wanted.address, endpoint.port()}});
  return true;
}

void Server::start() {
  for (auto& worker : workers_) {
    for (auto& listener : listeners_[static_cast<std::size_t>(worker->index())])
      accept(*worker, listener);
    threads_.emplace_back([w = worker.get()] { w->run(); });
  }
}

void Server::accept(Worker& worker, Listener& listener) {
  listener.loop = std::make_unique<net::AcceptLoop>(
      *listener.acceptor,
      [&worker, &listener](tcp::socket socket, const tcp::endpoint& peer) {
        if (worker.stopping()) return;
        worker.serve(listener.kind, std::move(socket), peer, listener.local);
      },
      [this, &worker](const error_code& ec) {
        accept_failed(worker, ec);
        return false;
      });
  listener.loop->start();
}

void Server::accept_failed(Worker& worker, const error_code& ec) {
  worker.accept_failed(ec);
  const auto now = std::chrono::steady_clock::now();
  last_accept_failure_ms_.store(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  if (const std::uint64_t failures = accept_failures_.note(now)) {
    log::Message(log::Level::Error)
        << "cannot accept connections: " << ec.message() << " (" << failures
        << (failures == 1 ? " failure" : " failures")
        << " since the last report); new connections wait in the listen queue";
  }
}

bool Server::accepts_succeed() const {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  const std::int64_t last = last_accept_failure_ms_.load();
  return last == 0 || now_ms - last > kAcceptFailingFor.count();
}

void Server::replace_policy(std::shared_ptr<const policy::Snapshot> snapshot) {
  for (auto& worker : workers_) {
    asio::post(worker->io(), [w = worker.get(), snapshot] { w->set_snapshot(snapshot); });
  }
}

void Server::replace_inventory(std::shared_ptr<const inventory::Inventory> inventory) {
  for (auto& worker : workers_) {
    asio::post(worker->io(), [w = worker.get(), inventory] { w->set_inventory(inventory); });
  }
}

void Server::stop_accepting() {
  if (!accepting_.exchange(false)) return;
  for (auto& worker : workers_) {
    auto& listeners = listeners_[static_cast<std::size_t>(worker->index())];
    asio::post(worker->io(), [&listeners] {
      for (auto& listener : listeners) {
        error_code ignored;
        listener.acceptor->close(ignored);
      }
    });
  }
}

void Server::when_idle(std::function<void()> idle) {
  struct Countdown {
    std::atomic<std::size_t> workers;
    std::function<void()> idle;
  };
  auto countdown = std::make_shared<Countdown>();
  countdown->workers = workers_.size();
  countdown->idle = std::move(idle);
  for (auto& worker : workers_) {
    asio::post(worker->io(), [w = worker.get(), countdown] {
      w->notify_when_idle([countdown] {
        if (countdown->workers.fetch_sub(1) == 1) countdown->idle();
      });
    });
  }
}

void Server::stop() {
  std::lock_guard lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& worker : workers_) {
    auto& listeners = listeners_[static_cast<std::size_t>(worker->index())];
    asio::post(worker->io(), [w = worker.get(), &listeners] {
      for (auto& listener : listeners) {
        error_code ignored;
        listener.acceptor->close(ignored);
      }
      w->stop();
    });
  }
  // Queued password checks are dropped, not run, and no result is posted to
  // a worker's loop from here on (those loops are about to end).
  if (authenticator_) authenticator_->stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace chokepoint::proxy
