// Rate limits: one token bucket per key (a client address, a proxy user, a
// rule and client), shared by all I/O threads.
//
// A bucket holds up to `burst` tokens and gains `rate` per second; each new
// connection takes one. A bucket that has filled up again is the same as no
// bucket, so idle buckets are dropped, and the table never holds more than
// `max_keys` (past that, the fullest buckets go first): a flood of new
// addresses costs bounded memory. Sharded, a lock per shard.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chokepoint::proxy {

class TokenBuckets {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate`: tokens per second (0: no limit, take() always succeeds);
  // `burst`: the bucket's size (at least 1).
  TokenBuckets(double rate, double burst, std::size_t max_keys = 65536);

  bool enabled() const { return rate_ > 0; }
  // Takes a token from `key`'s bucket. Nothing when one was there; else how
  // long until one will be.
  std::optional<std::chrono::milliseconds> take(std::string_view key, Clock::time_point now);
  // Buckets held now (all shards).
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  // Lookups by string_view, without building a string per connection.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets;
  };
  static constexpr std::size_t kShards = 16;

  // Drops the buckets of `shard` that have filled up again; if that is not
  // enough to get under the bound, the fullest of the rest.
  void trim(Shard& shard, Clock::time_point now);
  double refilled(const Bucket& bucket, Clock::time_point now) const;

  double rate_;
  double burst_;
  std::size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace chokepoint::proxy
