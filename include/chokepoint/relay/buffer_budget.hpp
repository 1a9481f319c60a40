// The memory tunnels hold for relaying, across all I/O threads: pipe
// capacity while a pipe is lent to a tunnel, and copy buffers. Pipes are
// kernel memory, but they are the proxy's to answer for.
//
// The bound is enforced at two points rather than by stalling tunnels that
// are already relaying: a tunnel direction that needs a pipe while the
// budget is spent copies through a 16 KiB buffer instead (one pipe is
// 256 KiB), and the proxy refuses new connections while the budget is
// spent (explicit mode answers 503). Copy buffers are always granted, so
// the overshoot is at most 32 KiB per open tunnel.
#pragma once

#include <atomic>
#include <cstddef>

namespace chokepoint::relay {

class BufferBudget {
 public:
  explicit BufferBudget(std::size_t limit = 0) : limit_(limit) {}  // 0: no limit

  // Takes `bytes` if they fit; false (and nothing taken) if not.
  bool try_take(std::size_t bytes) {
    const std::size_t before = used_.fetch_add(bytes, std::memory_order_relaxed);
    if (limit_ == 0 || before + bytes <= limit_) return true;
    used_.fetch_sub(bytes, std::memory_order_relaxed);
    return false;
  }
  void take(std::size_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  void give_back(std::size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  bool spent() const { return limit_ != 0 && used() >= limit_; }
  std::size_t used() const { return used_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace chokepoint::relay
