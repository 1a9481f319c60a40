// The background probes of a running proxy (`run --probe-interval D`), on a
// thread of their own with their own io_context, resolver and DNS cache, so
// a probe never waits in a client's way nor takes a client's DNS share. The
// control plane owns it (control/controller.hpp), as it owns the
// inventory's refresher.
//
// Low and bounded: every watched destination (probe/watch.hpp) is probed
// once per interval, the starts spread evenly over it, at most
// `max_in_flight` at once; each probe within the run's DNS and connect
// timeouts (and the connect timeout again for the TLS handshake). A probe is
// nobody's connection: no open, close or deny record and no decision
// counted; only a change of outcome leaves a record, through `report`.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/probe/watch.hpp>
#include <chokepoint/proxy/options.hpp>

namespace chokepoint::probe {

struct WatchOptions {
  std::chrono::milliseconds interval{0};  // 0: no background probes
  std::string ca_file;                    // empty: the system store
  std::size_t max_in_flight = 2;
};

// What the admin endpoint shows: a copy, safe to keep.
struct WatchView {
  std::chrono::milliseconds interval{0};
  std::vector<Watched> watched;  // by host, then port
  std::size_t targets = 0;       // watched now (some perhaps not probed yet)
  std::chrono::system_clock::time_point last_probe{};
  std::uint64_t rounds = 0;  // rounds begun
};

class Watcher {
 public:
  using Report = std::function<void(audit::Record)>;
  // `report` is called on the watcher's thread.
  Watcher(proxy::ProxyOptions options, WatchOptions watch, Report report);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Loads the CA and sets up the resolver, then starts the thread; the first
  // round begins at once. False with `error` when either fails (start-up).
  bool start(std::shared_ptr<const policy::Snapshot> snapshot, std::string& error);
  // Ends the thread (probes in flight are abandoned).
  void stop();
  // The next round probes what `snapshot` lets out. Safe from any thread.
  void replace_policy(std::shared_ptr<const policy::Snapshot> snapshot);
  // Safe from any thread.
  WatchView view() const;

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> probe_target(std::shared_ptr<const policy::Snapshot> snapshot,
                                     std::shared_ptr<const std::vector<WatchTarget>> targets,
                                     std::size_t index);

  proxy::ProxyOptions options_;
  WatchOptions watch_;
  Report report_;
  // Before the resolver: it must be destroyed first (net/resolver.hpp).
  asio::io_context io_{1};
  std::unique_ptr<net::DnsCache> cache_;
  std::unique_ptr<net::Resolver> resolver_;
  std::unique_ptr<net::Dialer> dialer_;
  std::optional<boost::asio::ssl::context> tls_;
  std::thread thread_;
  // The watcher's thread only.
  std::size_t in_flight_ = 0;
  std::size_t logged_ = 0;    // changes logged one by one this round
  std::size_t unlogged_ = 0;  // and those only counted
  asio::steady_timer slot_freed_{io_};

  mutable std::mutex mutex_;
  std::shared_ptr<const policy::Snapshot> snapshot_;
  WatchState state_;
  std::size_t targets_ = 0;
  std::uint64_t rounds_ = 0;
};

}  // namespace chokepoint::probe
