// One I/O thread: its io_context and everything its connections share
// without locks (pipes, live connections, pooled upstream connections, the
// pinned policy snapshot, the audit batch, the metrics).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/async_event.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/resolver.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/connection_slot.hpp>
#include <chokepoint/proxy/limits.hpp>
#include <chokepoint/proxy/metrics.hpp>
#include <chokepoint/proxy/options.hpp>
#include <chokepoint/proxy/upstream_pool.hpp>
#include <chokepoint/relay/pipe_pool.hpp>

namespace chokepoint::auth {
class Authenticator;
}

namespace chokepoint::proxy {

class RefusalThrottle;

class Worker {
 public:
  // The worker's resolver shares `dns` (the Server's) with every other worker.
  Worker(int index, const ProxyOptions& options, net::DnsCache& dns, audit::AuditLog& audit,
         ConnectionLimits& limits, auth::Authenticator* authenticator,
         std::shared_ptr<const policy::Snapshot> snapshot, std::string id_prefix);
  ~Worker();

  int index() const { return index_; }
  asio::io_context& io() { return io_; }
  const ProxyOptions& options() const { return options_; }
  net::Dialer& dialer() { return dialer_; }
  net::Resolver& resolver() { return resolver_; }
  relay::PipePool& pipes() { return pipes_; }
  UpstreamPool& upstreams() { return upstreams_; }
  auth::Authenticator* authenticator() { return authenticator_; }
  ConnectionLimits& limits() { return limits_; }
  bool stopping() const { return stopping_; }

  // The policy new connections of this thread decide with.
  const std::shared_ptr<const policy::Snapshot>& snapshot() const { return snapshot_; }
  // Called on this thread (posted) when the policy is reloaded.
  void set_snapshot(std::shared_ptr<const policy::Snapshot> snapshot) {
    snapshot_ = std::move(snapshot);
  }

  // Every connection of this thread, by its slot (connection_slot.hpp keeps it).
  ConnectionList& live() { return live_; }
  // Connections of this thread still in their handshake (head, auth, dial).
  std::size_t handshakes() const { return handshakes_; }
  std::size_t& handshake_gauge() { return handshakes_; }

  // A fresh connection id, unique across threads and restarts.
  std::string next_id();
  // Queues a finished record for the audit log and counts it in the
  // metrics. Only the exchange records (src/proxy/exchange_record.hpp) call
  // this: they are the one place that writes records.
  void write_record(audit::Record&& record);
  void write_record(const audit::Record& record);
  // Failing closed (--audit-on-failure refuse): waits until every record
  // this thread has written so far has reached the sinks. True when all of
  // them were written; false when any of them was lost, or the audit thread
  // did not answer within kAuditWait (then nothing may go through).
  asio::awaitable<bool> audit_written();
  static constexpr std::chrono::seconds kAuditWait{5};
  // Refusal floods leave bounded records (src/proxy/refusal_throttle.hpp);
  // the summaries of seconds that are over go out with the sweep.
  void flush_summaries(std::chrono::steady_clock::time_point now);

  // An accept on this thread failed (out of descriptors, memory): counted.
  void accept_failed(const error_code& ec);
  // A balancer's health check (a LOCAL PROXY header) was closed: counted.
  void health_check() { ++metrics_.health_checks; }

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
  // The last live connection ended (ConnectionSlot's destructor).
  void became_idle();

  // Starts the idle sweep; runs the loop until stop() and every connection ended.
  void run();
  // On this thread: ends every connection (each still leaves its records);
  // the loop returns once the last one has.
  void stop();

 private:
  void sweep();
  void flush_audit();
  void schedule_flush();
  void stop_when_idle();
  // The audit thread has dealt with this thread's first `through` records.
  void audit_committed(std::uint64_t through, bool ok);

  // The event loop, and a way to end what still waits on it (the frames of
  // coroutines and the handlers of operations, with their destructors)
  // while the worker still stands: ~io_context would do the same, but after
  // the members the destructors write records into are gone.
  class Loop : public asio::io_context {
   public:
    using asio::io_context::io_context;
    void end_pending() { shutdown(); }
  };

  int index_;
  const ProxyOptions& options_;
  // Sockets are only ever touched from this thread (other threads only post),
  // so the reactor needs no locks of its own.
  Loop io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  net::Resolver resolver_;  // c-ares on io_, after it: destroyed before it
  net::Dialer dialer_;
  audit::AuditLog& audit_;
  std::vector<audit::Record> audit_batch_;  // records of this turn of the loop
  std::unique_ptr<RefusalThrottle> throttle_;
  Metrics metrics_;
  bool audit_flush_posted_ = false;
  bool loop_ended_ = false;  // nothing posted runs any more: flush at once
  // Failing closed: records handed to the audit log, what it has dealt
  // with, and the connections waiting for their records.
  struct AuditWaiter {
    std::uint64_t through;
    AsyncEvent* done;
    bool* ok;
  };
  std::uint64_t audit_submitted_ = 0;
  std::uint64_t audit_committed_ = 0;
  std::uint64_t audit_failed_through_ = 0;
  std::deque<AuditWaiter> audit_waiters_;
  bool audit_urgent_ = false;
  ConnectionLimits& limits_;
  auth::Authenticator* authenticator_;
  std::size_t handshakes_ = 0;
  std::shared_ptr<const policy::Snapshot> snapshot_;
  std::string id_prefix_;
  std::uint64_t next_id_ = 0;
  relay::PipePool pipes_;
  ConnectionList live_;
  UpstreamPool upstreams_;
  asio::steady_timer sweep_timer_{io_};
  bool stopping_ = false;
  std::function<void()> idle_;  // notify_when_idle's callback, until called
};

}  // namespace chokepoint::proxy
