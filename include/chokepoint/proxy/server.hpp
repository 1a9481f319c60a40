// The running proxy: one Worker (io_context and thread) per core, each with
// its own SO_REUSEPORT acceptor on every listener, so nothing on the path
// from accept to relay is shared between threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/core/async_event.hpp>
#include <chokepoint/log/throttle.hpp>
#include <chokepoint/net/accept_loop.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/listener.hpp>
#include <chokepoint/proxy/options.hpp>
#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {

class Server {
 public:
  Server(ProxyOptions options, std::shared_ptr<const policy::Snapshot> snapshot,
         audit::AuditLog& audit, std::unique_ptr<auth::Authenticator> authenticator);
  ~Server();

  struct Bound {
    ListenerKind kind;
    Endpoint endpoint;
  };

  // Binds every listener on every worker (start-up). Port 0 gets a port from
  // the kernel; bound() tells which.
  bool bind(std::string& error);
  const std::vector<Bound>& bound() const { return bound_; }

  // Starts the worker threads; returns at once.
  void start();
  // Stops accepting; open connections go on (graceful drain). Safe from any thread.
  void stop_accepting();
  bool accepting() const { return accepting_.load(); }
  // False while accepts fail (out of descriptors): for readiness. Safe from any thread.
  bool accepts_succeed() const;
  // Relay buffer memory held now, against --max-buffer-memory.
  relay::BufferBudget& buffers() { return limits_.buffers(); }
  // Runs `ask(worker)` on every worker's own thread and collects the answers
  // on the caller's executor; a worker that does not answer within `timeout`
  // contributes nothing.
  template <class Ask>
  asio::awaitable<std::vector<std::invoke_result_t<Ask&, Worker&>>> ask_workers(
      Ask ask, std::chrono::milliseconds timeout = std::chrono::seconds(2));
  // Calls `idle` once, from some worker's thread, when no worker has a live
  // connection left (after stop_accepting(): draining).
  void when_idle(std::function<void()> idle);
  // Stops accepting, ends every connection (each leaves its record), and
  // waits for the workers. Safe from any thread, more than once.
  void stop();
  // New connections decide with `snapshot`; open ones keep theirs.
  void replace_policy(std::shared_ptr<const policy::Snapshot> snapshot);
  // New connections' clients are looked up in `inventory` (null: none applies).
  void replace_inventory(std::shared_ptr<const inventory::Inventory> inventory);
  // Proxy authentication, when it is on (its users are replaced on reload).
  auth::Authenticator* authenticator() { return authenticator_.get(); }
  // The DNS cache every worker's resolver shares: stats() for metrics,
  // list() for a listing of names (both safe from any thread).
  const net::DnsCache& dns() const { return dns_; }

 private:
  struct Listener {
    std::unique_ptr<tcp::acceptor> acceptor;
    ListenerKind kind;
    tcp::endpoint local;
    std::unique_ptr<net::AcceptLoop> loop;  // from start()
  };
  bool bind_one(ListenerKind kind, const Endpoint& wanted, std::string& error);
  // Starts the listener's accept loop on the worker.
  void accept(Worker& worker, Listener& listener);
  // Counts, and logs once per interval with a count (the loop backs off).
  void accept_failed(Worker& worker, const error_code& ec);

  ProxyOptions options_;
  std::shared_ptr<const policy::Snapshot> snapshot_;
  audit::AuditLog& audit_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  net::DnsCache dns_;  // before workers_: outlives their resolvers
  ConnectionLimits limits_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::vector<Listener>> listeners_;  // per worker
  std::vector<Bound> bound_;
  std::vector<std::thread> threads_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
  std::atomic<bool> accepting_{true};
  std::atomic<std::int64_t> last_accept_failure_ms_{0};      // steady clock
  log::Throttle accept_failures_{std::chrono::seconds(10)};  // every worker's
};

template <class Ask>
asio::awaitable<std::vector<std::invoke_result_t<Ask&, Worker&>>> Server::ask_workers(
    Ask ask, std::chrono::milliseconds timeout) {
  using Answer = std::invoke_result_t<Ask&, Worker&>;
  struct Gather {
    explicit Gather(const asio::any_io_executor& executor) : done(executor) {}
    AsyncEvent done;
    std::vector<Answer> answers;
    std::size_t missing = 0;
  };
  const auto executor = co_await asio::this_coro::executor;
  auto gather = std::make_shared<Gather>(executor);
  gather->missing = workers_.size();
  for (auto& worker : workers_) {
    asio::post(worker->io(), [w = worker.get(), gather, executor, ask]() mutable {
      Answer answer = ask(*w);
      asio::post(executor, [gather, answer = std::move(answer)]() mutable {
        gather->answers.push_back(std::move(answer));
        if (--gather->missing == 0) gather->done.set();
      });
    });
  }
  if (gather->missing > 0) co_await gather->done.wait_for(timeout);
  co_return std::move(gather->answers);
}

}  // namespace chokepoint::proxy
