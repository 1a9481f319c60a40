// The manager's computer list kept fresh (DESIGN.md, "Clients from the
// manager"), on a thread of its own: it never waits in the data plane's
// way. At start and every `refresh` it fetches the list (manager_client),
// and when what identifies a client changed, builds an Inventory and hands
// it to `publish`, which swaps it in whole, as a reload swaps a policy.
//
// Failure is visible and bounded:
//   - a failed refresh keeps the last good inventory; the next try comes
//     after a backoff (1 s doubling, at most `refresh`), or what a 429's
//     Retry-After asks;
//   - a 401/403 is logged once, clearly, and tried again only at the next
//     regular refresh: a wrong key does not hammer the manager;
//   - after `stale_for` without a good refresh the inventory stops
//     applying (publish(nullptr)): clients fall back to the `clients` CIDR
//     entries, and with `required: true` /readyz says so;
//   - a malformed or oversized answer is refused whole and never replaces
//     a good inventory.
// The API key is read again before every refresh, so a rotated key applies
// without a restart.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/inventory/inventory.hpp>
#include <chokepoint/inventory/manager_client.hpp>
#include <chokepoint/policy/policy.hpp>

namespace chokepoint::inventory {

// What the admin endpoint and the metrics show about the refreshes.
struct RefreshStatus {
  bool applies = false;  // an inventory is in use now
  std::uint64_t refreshes = 0;
  std::map<std::string, std::uint64_t> failures;  // by FetchError name
  std::chrono::system_clock::time_point last_good{};
  // The last good refresh that swapped an inventory in: the first one, and
  // each that found the list changed or applied it again after stale_for.
  std::chrono::system_clock::time_point last_changed{};
  std::chrono::system_clock::time_point last_attempt{};
  std::string last_error;  // empty when the last attempt succeeded
  std::chrono::milliseconds last_took{0};
  std::size_t last_requests = 0;
};

class Refresher {
 public:
  using Publish = std::function<void(std::shared_ptr<const Inventory>)>;
  Refresher(policy::InventorySource source, FetchLimits limits, Publish publish);
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // Starts the thread; the first refresh begins at once.
  void start();
  // Ends the thread (a request in progress is abandoned).
  void stop();

  const policy::InventorySource& source() const { return source_; }
  // Safe from any thread.
  RefreshStatus status() const;
  std::shared_ptr<const Inventory> current() const;
  // Both as of one moment (a page showing the inventory's age needs them to agree).
  std::pair<RefreshStatus, std::shared_ptr<const Inventory>> status_and_current() const;

 private:
  asio::awaitable<void> run();
  // One refresh; how long until the next.
  asio::awaitable<std::chrono::milliseconds> refresh_once();
  void log_once(const std::string& message);

  policy::InventorySource source_;
  FetchLimits limits_;
  Publish publish_;
  asio::io_context io_;
  std::unique_ptr<ManagerClient> client_;  // its connection and buffers kept between refreshes
  std::thread thread_;
  mutable std::mutex mutex_;
  RefreshStatus status_;
  std::shared_ptr<const Inventory> current_;
  std::shared_ptr<const Inventory> retired_;  // the one current_ replaced, freed here soon after
  ComputerList computers_;  // as the last refresh read them: what current_ was built from
  std::string last_logged_;
  int backoff_steps_ = 0;
};

}  // namespace chokepoint::inventory
