#include <chokepoint/proxy/limits.hpp>

namespace chokepoint::proxy {

std::string_view to_string(LimitVerdict verdict) {
  switch (verdict) {
    case LimitVerdict::Ok:
      return "ok";
    case LimitVerdict::Total:
      return "connection_limit";
    case LimitVerdict::PerClient:
      return "client_connection_limit";
    case LimitVerdict::PendingHeads:
      return "pending_heads_limit";
    case LimitVerdict::BufferMemory:
      return "buffer_memory_limit";
  }
  return "connection_limit";
}

std::string ConnectionLimits::key(const IpAddress& client) {
  const IpAddress a = client.unmapped();
  return std::string(reinterpret_cast<const char*>(a.bytes().data()),
                     static_cast<std::size_t>(a.bit_length() / 8));
}

LimitVerdict ConnectionLimits::acquire(const IpAddress& client) {
  if (buffers_.spent()) return LimitVerdict::BufferMemory;
  if (max_total_ != 0 && total_.fetch_add(1, std::memory_order_relaxed) >= max_total_) {
    total_.fetch_sub(1, std::memory_order_relaxed);
    return LimitVerdict::Total;
  }
  if (max_total_ == 0) total_.fetch_add(1, std::memory_order_relaxed);
  if (max_per_client_ != 0) {
    std::lock_guard lock(mutex_);
    std::size_t& count = per_client_[key(client)];
    if (count >= max_per_client_) {
      total_.fetch_sub(1, std::memory_order_relaxed);
      return LimitVerdict::PerClient;
    }
    ++count;
  }
  return LimitVerdict::Ok;
}

void ConnectionLimits::release(const IpAddress& client) {
  total_.fetch_sub(1, std::memory_order_relaxed);
  if (max_per_client_ == 0) return;
  std::lock_guard lock(mutex_);
  const auto it = per_client_.find(key(client));
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

}  // namespace chokepoint::proxy
