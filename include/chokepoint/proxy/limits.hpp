// Connection limits shared by all I/O threads: the total, per client
// address (a client's connections land on different threads, since
// SO_REUSEPORT spreads them by port), and the relay buffer budget. Taken
// once per accepted connection and given back when it ends; over a limit,
// explicit mode answers 503 and transparent mode closes.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <chokepoint/core/ip.hpp>
#include <chokepoint/relay/buffer_budget.hpp>

namespace chokepoint::proxy {

enum class LimitVerdict : std::uint8_t { Ok, Total, PerClient, PendingHeads, BufferMemory };
// "ok", "connection_limit", "client_connection_limit", "pending_heads_limit",
// "buffer_memory_limit"
std::string_view to_string(LimitVerdict verdict);

class ConnectionLimits {
 public:
  // 0 means no limit.
  ConnectionLimits(std::size_t max_total, std::size_t max_per_client,
                   std::size_t max_buffer_memory = 0)
      : max_total_(max_total), max_per_client_(max_per_client), buffers_(max_buffer_memory) {}

  LimitVerdict acquire(const IpAddress& client);
  void release(const IpAddress& client);
  std::size_t open() const { return total_.load(std::memory_order_relaxed); }
  relay::BufferBudget& buffers() { return buffers_; }

 private:
  static std::string key(const IpAddress& client);

  std::size_t max_total_;
  std::size_t max_per_client_;
  relay::BufferBudget buffers_;
  std::atomic<std::size_t> total_{0};
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> per_client_;
};

}  // namespace chokepoint::proxy
