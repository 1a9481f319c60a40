#include <algorithm>

#include <chokepoint/log/log.hpp>
#include <chokepoint/net/options.hpp>
#include <chokepoint/probe/prober.hpp>
#include <chokepoint/probe/watcher.hpp>

namespace chokepoint::probe {
namespace {

// A DNS view that resolves nothing fails every destination at once: stderr
// names the first few of a round, and counts the rest (each still has its
// record).
constexpr std::size_t kLoggedPerRound = 10;

}  // namespace

Watcher::Watcher(proxy::ProxyOptions options, WatchOptions watch, Report report)
    : options_(std::move(options)), watch_(std::move(watch)), report_(std::move(report)) {}

Watcher::~Watcher() {
  stop();
}

bool Watcher::start(std::shared_ptr<const policy::Snapshot> snapshot, std::string& error) {
  tls_ = client_tls_context(watch_.ca_file, error);
  if (!tls_) {
    error = "--probe-ca (probe.ca): " + error;
    return false;
  }
  // A cache of its own: the probes neither evict clients' names nor are
  // answered from what a client's lookup left.
  cache_ = std::make_unique<net::DnsCache>(net::dns_cache_options(options_));
  try {
    resolver_ = std::make_unique<net::Resolver>(io_, *cache_, net::resolver_options(options_));
  } catch (const std::exception& e) {
    error = std::string("the background probes' resolver: ") + e.what();
    return false;
  }
  dialer_ =
      std::make_unique<net::Dialer>(*resolver_, options_.connect_to, net::dial_options(options_));
  replace_policy(std::move(snapshot));
  asio::co_spawn(io_, run(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  return true;
}

void Watcher::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void Watcher::replace_policy(std::shared_ptr<const policy::Snapshot> snapshot) {
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(snapshot);
}

WatchView Watcher::view() const {
  std::lock_guard lock(mutex_);
  WatchView v;
  v.interval = watch_.interval;
  v.watched = state_.list();
  v.targets = targets_;
  v.last_probe = state_.last_probe();
  v.rounds = rounds_;
  return v;
}

asio::awaitable<void> Watcher::run() {
  asio::steady_timer pace(io_);
  const auto interval = std::max(watch_.interval, std::chrono::milliseconds(1));
  while (true) {
    std::shared_ptr<const policy::Snapshot> snapshot;
    {
      std::lock_guard lock(mutex_);
      snapshot = snapshot_;
    }
    auto targets = std::make_shared<const std::vector<WatchTarget>>(watch_targets(*snapshot));
    {
      std::lock_guard lock(mutex_);
      state_.keep_only(*targets);
      targets_ = targets->size();
      ++rounds_;
    }
    if (unlogged_ > 0) {
      log::Message(log::Level::Warning)
          << "probe: " << unlogged_
          << " more destinations changed outcome (each has its probe record; GET /probe)";
    }
    logged_ = unlogged_ = 0;
    const auto started = std::chrono::steady_clock::now();
    // Spread over the interval: the built-in catalog's 220 destinations at
    // 5m are a probe every 1.4 s, never a burst.
    const auto spacing = interval / std::max<std::size_t>(1, targets->size());
    error_code ec;
    for (std::size_t i = 0; i < targets->size(); ++i) {
      while (in_flight_ >= std::max<std::size_t>(1, watch_.max_in_flight)) {
        slot_freed_.expires_at(asio::steady_timer::time_point::max());
        co_await slot_freed_.async_wait(await_into(ec));
      }
      ++in_flight_;
      asio::co_spawn(io_, probe_target(snapshot, targets, i), asio::detached);
      pace.expires_after(spacing);
      co_await pace.async_wait(await_into(ec));
      if (ec) co_return;
    }
    pace.expires_at(started + interval);
    co_await pace.async_wait(await_into(ec));
    if (ec) co_return;
  }
}

asio::awaitable<void> Watcher::probe_target(std::shared_ptr<const policy::Snapshot> snapshot,
                                            std::shared_ptr<const std::vector<WatchTarget>> targets,
                                            std::size_t index) {
  const WatchTarget& w = (*targets)[index];
  ProbeOptions o;
  o.concurrency = 1;
  // The TLS handshake gets what a connect gets; the whole probe, every step.
  o.step_timeout = options_.connect_timeout;
  o.time_limit = options_.dns_timeout + 2 * options_.connect_timeout;
  std::vector<Target> one;
  one.push_back(w.target);
  ProbeRun run =
      co_await probe_all(*dialer_, options_, *snapshot, w.client, *tls_, std::move(one), o);
  --in_flight_;
  slot_freed_.cancel();
  if (run.results.empty()) co_return;
  std::optional<audit::Record> record;
  {
    std::lock_guard lock(mutex_);
    record =
        state_.update(std::move(run.results.front()), w.role, std::chrono::system_clock::now());
  }
  if (!record) co_return;
  if (++logged_ > kLoggedPerRound) {
    ++unlogged_;
    report_(std::move(*record));
    co_return;
  }
  log::Message(record->detail.starts_with("ok") ? log::Level::Notice : log::Level::Warning)
      << "probe: " << record->host << ":" << record->port << ": " << record->detail;
  report_(std::move(*record));
}

}  // namespace chokepoint::probe
