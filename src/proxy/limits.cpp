#include <functional>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/proxy/limits.hpp>

namespace chokepoint::proxy {

using audit::Reason;

ConnectionLimits::ConnectionLimits(const LimitOptions& options)
    : options_(options),
      buffers_(options.max_buffer_memory),
      rates_(options.max_rate_per_client, options.max_rate_per_client) {}

ConnectionLimits::Shard& ConnectionLimits::shard_of(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

Admission ConnectionLimits::admit(const IpAddress& client, bool thread_pending_full,
                                  Clock::time_point now) {
  // Nothing may go out unrecorded: not even a rate token is spent on a
  // connection that could not leave its record.
  if (audit_ && !audit_->available()) return Admission{Reason::AuditUnavailable};
  const Admission own = admit_client(client, now);
  if (!own) return own;
  const Admission shared = admit_shared(thread_pending_full);
  if (!shared) release_client(client, true);
  return shared;
}

Admission ConnectionLimits::admit_client(const IpAddress& client, Clock::time_point now) {
  const std::string k = key(client);
  if (!options_.rate_by_user) {
    if (const auto wait = rates_.take(k, now)) return Admission{Reason::RateLimited, *wait};
  }
  if (!per_client()) return Admission{};
  Shard& shard = shard_of(k);
  std::lock_guard lock(shard.mutex);
  Client& entry = shard.clients[k];
  const auto refuse = [&](Reason reason) {
    if (entry.connections == 0) shard.clients.erase(k);
    return Admission{reason};
  };
  if (options_.max_pending_heads_per_client != 0 &&
      entry.pending >= options_.max_pending_heads_per_client)
    return refuse(Reason::ClientPendingHeadsLimit);
  if (options_.max_connections_per_client != 0 &&
      entry.connections >= options_.max_connections_per_client)
    return refuse(Reason::ClientConnectionLimit);
  ++entry.connections;
  ++entry.pending;
  return Admission{};
}

Admission ConnectionLimits::admit_shared(bool thread_pending_full) {
  if (thread_pending_full) return Admission{Reason::PendingHeadsLimit};
  if (buffers_.spent()) return Admission{Reason::BufferMemoryLimit};
  if (total_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections &&
      options_.max_connections != 0) {
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Admission{Reason::ConnectionLimit};
  }
  return Admission{};
}

std::optional<std::chrono::milliseconds> ConnectionLimits::take_rule_rate(std::string_view rule,
                                                                          double rate,
                                                                          const IpAddress& client,
                                                                          Clock::time_point now) {
  TokenBuckets* buckets = nullptr;
  {
    std::lock_guard lock(rule_rates_mutex_);
    auto& slot = rule_rates_[std::string(rule) + '@' + std::to_string(rate)];
    if (!slot) slot = std::make_unique<TokenBuckets>(rate, rate);
    buckets = slot.get();
  }
  return buckets->take(key(client), now);
}

void ConnectionLimits::handshake_done(const IpAddress& client) {
  if (!per_client()) return;
  const std::string k = key(client);
  Shard& shard = shard_of(k);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.clients.find(k);
  if (it != shard.clients.end() && it->second.pending > 0) --it->second.pending;
}

void ConnectionLimits::release_client(const IpAddress& client, bool pending) {
  if (!per_client()) return;
  const std::string k = key(client);
  Shard& shard = shard_of(k);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.clients.find(k);
  if (it == shard.clients.end()) return;
  if (pending && it->second.pending > 0) --it->second.pending;
  if (--it->second.connections == 0) shard.clients.erase(it);
}

}  // namespace chokepoint::proxy
