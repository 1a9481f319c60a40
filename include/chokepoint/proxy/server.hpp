// The running proxy: one Worker (io_context and thread) per core, each with
// its own SO_REUSEPORT acceptor on every listener, so nothing on the path
// from accept to relay is shared between threads.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/net/resolver.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/options.hpp>
#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {

class Server {
 public:
  Server(ProxyOptions options, std::shared_ptr<const policy::Snapshot> snapshot,
         audit::AuditLog& audit, std::unique_ptr<auth::Authenticator> authenticator);
  ~Server();

  enum class ListenerKind : std::uint8_t { Explicit, Transparent, Tproxy, Sni };
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
  // Stops accepting, ends every connection (each leaves its record), and
  // waits for the workers. Safe from any thread, more than once.
  void stop();
  // New connections decide with `snapshot`; open ones keep theirs.
  void replace_policy(std::shared_ptr<const policy::Snapshot> snapshot);

 private:
  struct Listener {
    std::unique_ptr<tcp::acceptor> acceptor;
    ListenerKind kind;
    tcp::endpoint local;
    tcp::endpoint peer;  // filled by each accept: no getpeername per connection
  };
  bool bind_one(ListenerKind kind, const Endpoint& wanted, std::string& error);
  void accept(Worker& worker, Listener& listener);
  // Whether a new connection fits the limits; Ok takes a slot its session gives back.
  LimitVerdict admit(Worker& worker, const tcp::endpoint& peer);

  ProxyOptions options_;
  std::shared_ptr<const policy::Snapshot> snapshot_;
  audit::AuditLog& audit_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  net::Resolver resolver_;
  ConnectionLimits limits_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::vector<Listener>> listeners_;  // per worker
  std::vector<Bound> bound_;
  std::vector<std::thread> threads_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

}  // namespace chokepoint::proxy
