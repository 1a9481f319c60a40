#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include <chokepoint/proxy/token_buckets.hpp>

namespace chokepoint::proxy {

TokenBuckets::TokenBuckets(double rate, double burst, std::size_t max_keys)
    : rate_(rate),
      burst_(std::max(1.0, burst)),
      max_per_shard_(std::max<std::size_t>(1, max_keys / kShards)) {}

double TokenBuckets::refilled(const Bucket& bucket, Clock::time_point now) const {
  const double seconds = std::chrono::duration<double>(now - bucket.updated).count();
  return std::min(burst_, bucket.tokens + std::max(0.0, seconds) * rate_);
}

std::optional<std::chrono::milliseconds> TokenBuckets::take(std::string_view key,
                                                            Clock::time_point now) {
  if (!enabled()) return std::nullopt;
  Shard& shard = shards_[KeyHash{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) trim(shard, now);
    // A new key starts full: the one token it takes now leaves burst - 1.
    shard.buckets.emplace(std::string(key), Bucket{burst_ - 1, now});
    return std::nullopt;
  }
  Bucket& bucket = it->second;
  bucket.tokens = refilled(bucket, now);
  bucket.updated = now;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return std::nullopt;
  }
  const double wait_s = (1 - bucket.tokens) / rate_;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait_s * 1000)));
}

void TokenBuckets::trim(Shard& shard, Clock::time_point now) {
  std::erase_if(shard.buckets,
                [&](const auto& entry) { return refilled(entry.second, now) >= burst_; });
  if (shard.buckets.size() < max_per_shard_) return;
  // Every bucket is in use: forget the fullest half (the ones that would
  // have refused least soon), so the busiest clients stay limited.
  std::vector<std::pair<double, std::string>> by_fill;
  by_fill.reserve(shard.buckets.size());
  for (const auto& [key, bucket] : shard.buckets)
    by_fill.emplace_back(refilled(bucket, now), key);
  const auto half = by_fill.begin() + static_cast<std::ptrdiff_t>(by_fill.size() / 2);
  std::nth_element(by_fill.begin(), half, by_fill.end(), std::greater<>());
  for (auto it = by_fill.begin(); it != half; ++it)
    shard.buckets.erase(it->second);
}

std::size_t TokenBuckets::size() const {
  std::size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.buckets.size();
  }
  return n;
}

}  // namespace chokepoint::proxy
