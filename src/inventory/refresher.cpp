#include <algorithm>
#include <sys/resource.h>
#include <unistd.h>

#include <chokepoint/inventory/refresher.hpp>
#include <chokepoint/log/log.hpp>

namespace chokepoint::inventory {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{1'000};
constexpr int kRefreshNice = 10;
constexpr milliseconds kRetireAfter{1'000};

}  // namespace

Refresher::Refresher(policy::InventorySource source, FetchLimits limits, Publish publish)
    : source_(std::move(source)),
      limits_(limits),
      publish_(std::move(publish)),
      client_(std::make_unique<ManagerClient>(source_)) {}

Refresher::~Refresher() {
  stop();
}

void Refresher::start() {
  asio::co_spawn(io_, run(), asio::detached);
  thread_ = std::thread([this] {
    // Below the I/O threads: a refresh is background work, and where the
    // cores are busy it waits for the connections rather than delay them.
    // (Linux's nice is per thread.)
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kRefreshNice);
    io_.run();
  });
}

void Refresher::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
  // Its socket belongs to io_: gone before io_ is.
  client_.reset();
}

RefreshStatus Refresher::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

std::shared_ptr<const Inventory> Refresher::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::pair<RefreshStatus, std::shared_ptr<const Inventory>> Refresher::status_and_current() const {
  std::lock_guard lock(mutex_);
  return {status_, current_};
}

void Refresher::log_once(const std::string& message) {
  // The same failure again says nothing new: one line until it changes.
  if (message == last_logged_) return;
  last_logged_ = message;
  log::Message(log::Level::Warning) << "inventory: " << message;
}

asio::awaitable<void> Refresher::run() {
  asio::steady_timer timer(io_);
  const auto sleep = [&timer](milliseconds how_long) -> asio::awaitable<bool> {
    timer.expires_after(how_long);
    error_code ec;
    co_await timer.async_wait(await_into(ec));
    co_return !ec;
  };
  while (true) {
    milliseconds wait = co_await refresh_once();
    if (retired_) {
      // The workers let go of the inventory it replaced moments after the
      // swap; it is freed here, on this thread, not by whichever worker
      // dropped it last (20,000 entries).
      const milliseconds first = std::min(wait, kRetireAfter);
      if (!co_await sleep(first)) co_return;
      retired_.reset();
      wait -= first;
    }
    if (!co_await sleep(wait)) co_return;
  }
}

asio::awaitable<milliseconds> Refresher::refresh_once() {
  const auto started = std::chrono::steady_clock::now();
  const auto now = std::chrono::system_clock::now();
  FetchResult fetched;
  auto key = read_api_key(source_.key_file);
  if (!key) {
    fetched.error = FetchError::Refused;
    fetched.detail = key.diagnostics().front().to_string();
  } else {
    fetched = co_await client_->fetch(key.value(), limits_, computers_);
  }
  const auto took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);

  const bool good = fetched.error == FetchError::None;
  std::shared_ptr<const Inventory> built;
  if (good) {
    // Most refreshes find the list as it was: the inventory in use stays,
    // and the workers and the memory allocator see nothing of them. (Each
    // whole list read was built from or found the same, so the last one is
    // what the inventory in use was built from.)
    if (!computers_.same_as_last() || !current())
      built = Inventory::build(computers_.computers(), source_.relay_host_names);
  }
  // Too long without a good refresh: what the manager said once is no
  // longer trusted to say who a client is.
  const bool stopped_applying = [&] {
    std::lock_guard lock(mutex_);
    return !good && status_.applies && now - status_.last_good >= source_.stale_for;
  }();
  // The workers first, the status after: once /inventory says an inventory
  // applies (or no longer does), the connections are decided by it (or not).
  if (built) publish_(built);
  if (stopped_applying) publish_(nullptr);
  {
    std::lock_guard lock(mutex_);
    status_.last_attempt = now;
    status_.last_took = took;
    status_.last_requests = fetched.requests;
    if (good) {
      ++status_.refreshes;
      status_.last_good = now;
      status_.last_error.clear();
      status_.applies = true;
      if (built) {
        retired_ = std::exchange(current_, built);
        status_.last_changed = now;
      }
    } else {
      ++status_.failures[std::string(to_string(fetched.error))];
      status_.last_error = fetched.detail;
      if (stopped_applying) {
        status_.applies = false;
        retired_ = std::move(current_);
      }
    }
  }
  if (good) {
    backoff_steps_ = 0;
    if (!last_logged_.empty()) {
      log::Message(log::Level::Notice)
          << "inventory: refreshed again (" << current()->computers() << " computers)";
      last_logged_.clear();
    }
    co_return source_.refresh;
  }
  if (stopped_applying) {
    log::Message(log::Level::Error)
        << "inventory: no good refresh for the last "
        << std::chrono::duration_cast<std::chrono::seconds>(source_.stale_for).count()
        << " s; it no longer applies (clients fall back to the clients entries)";
  }
  log_once("refresh failed: " + fetched.detail);
  if (fetched.error == FetchError::Refused) co_return source_.refresh;
  if (fetched.error == FetchError::RateLimited && fetched.retry_after.count() > 0)
    co_return std::min<milliseconds>(fetched.retry_after, source_.refresh);
  const milliseconds backoff = kFirstBackoff * (1 << std::min(backoff_steps_++, 16));
  co_return std::min(backoff, source_.refresh);
}

}  // namespace chokepoint::inventory
