// One I/O thread: its event loop and everything its connections share
// without locks: the resolver and dialer, the pipes, the pooled upstream
// connections, the audit record queue, the metrics, the live connections
// and the policy snapshot new connections decide with. Server makes one
// per core; a connection's session and stages reach it only through the
// services they are handed (ConnectionServices), each taking its part.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/inventory/inventory.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/resolver.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/connection_slot.hpp>
#include <chokepoint/proxy/limits.hpp>
#include <chokepoint/proxy/listener.hpp>
#include <chokepoint/proxy/metrics.hpp>
#include <chokepoint/proxy/options.hpp>
#include <chokepoint/proxy/record_queue.hpp>
#include <chokepoint/proxy/upstream_pool.hpp>
#include <chokepoint/relay/pipe_pool.hpp>

namespace chokepoint::auth {
class Authenticator;
}

namespace chokepoint::proxy {

// What a connection's stages use on its thread.
struct ConnectionServices {
  const ProxyOptions& options;
  int thread;
  net::Dialer& dialer;
  RecordQueue& records;
  ConnectionLimits& limits;
  auth::Authenticator* authenticator;  // null without a users file
  relay::PipePool& pipes;
  UpstreamPool& upstreams;
  Metrics& metrics;
  // Who addresses are, by the manager's computer list; null while no
  // inventory applies. Replaced whole between connections' lookups.
  const std::shared_ptr<const inventory::Inventory>& inventory;
};

class Worker {
 public:
  // The worker's resolver shares `dns` (the Server's) with every other worker.
  Worker(int index, const ProxyOptions& options, net::DnsCache& dns, audit::AuditLog& audit,
         ConnectionLimits& limits, auth::Authenticator* authenticator,
         std::shared_ptr<const policy::Snapshot> snapshot, std::string id_prefix);
  ~Worker();

  int index() const { return index_; }
  asio::io_context& io() { return io_; }
  bool stopping() const { return stopping_; }

  // Serves a connection this thread's listener of `kind` accepted (on this
  // thread): admitted under the limits or refused, it leaves its records.
  void serve(ListenerKind kind, tcp::socket socket, const tcp::endpoint& peer,
             const tcp::endpoint& local);
  // An accept on this thread failed (out of descriptors, memory): counted.
  void accept_failed(const error_code& ec);

  // Called on this thread (posted) when the policy is reloaded: new
  // connections decide with `snapshot`, open ones keep theirs.
  void set_snapshot(std::shared_ptr<const policy::Snapshot> snapshot) {
    snapshot_ = std::move(snapshot);
  }
  // Likewise when the inventory is refreshed (null: it no longer applies).
  void set_inventory(std::shared_ptr<const inventory::Inventory> inventory) {
    inventory_ = std::move(inventory);
  }

  // A copy of this thread's counters and gauges (call on this thread).
  Metrics metrics() const;
  // This thread's open tunnels, at most `limit` of them (call on this
  // thread): /connections and the status page.
  struct OpenTunnel {
    audit::Record facts;  // the open record: client, user, role, host, port, rule, service
    // Open, and nothing relayed yet: the client has not sent its first
    // bytes (a CONNECT tunnel's ClientHello) since its 200.
    bool waiting_for_client = false;
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::chrono::steady_clock::duration age{};
    std::chrono::steady_clock::duration idle{};  // since bytes last moved
  };
  std::vector<OpenTunnel> tunnels(std::size_t limit) const;

  // Calls `idle` (on this thread, once) as soon as this thread has no live
  // connection: at once if it has none now. For draining, after the
  // listeners closed.
  void notify_when_idle(std::function<void()> idle);

  // Starts the idle sweep; runs the loop until stop() and every connection ended.
  void run();
  // On this thread: ends every connection (each still leaves its records);
  // the loop returns once the last one has.
  void stop();

 private:
  // The event loop, and a way to end what still waits on it (the frames of
  // coroutines and the handlers of operations, with their destructors)
  // while the worker still stands: ~io_context would do the same, but after
  // the members the destructors write records into are gone.
  class Loop : public asio::io_context {
   public:
    using asio::io_context::io_context;
    void end_pending() { shutdown(); }
  };

  void sweep();
  void became_idle();

  int index_;
  const ProxyOptions& options_;
  // Sockets are only ever touched from this thread (other threads only post),
  // so the reactor needs no locks of its own.
  Loop io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  net::Resolver resolver_;  // c-ares on io_, after it: destroyed before it
  net::Dialer dialer_;
  Metrics metrics_;
  RecordQueue records_;
  ConnectionLimits& limits_;
  auth::Authenticator* authenticator_;
  std::shared_ptr<const policy::Snapshot> snapshot_;
  std::shared_ptr<const inventory::Inventory> inventory_;
  relay::PipePool pipes_;
  UpstreamPool upstreams_;
  ConnectionServices services_;  // every session of this thread holds it
  LiveConnections live_;
  asio::steady_timer sweep_timer_{io_};
  bool stopping_ = false;
  std::function<void()> idle_;  // notify_when_idle's callback, until called
};

}  // namespace chokepoint::proxy
