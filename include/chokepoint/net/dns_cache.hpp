// Names and what DNS said about them, shared by every I/O thread:
// answers kept for their TTL, negative answers for their SOA's (RFC 2308),
// one flight of queries per name however many threads ask (single flight),
// a bounded size with least-recently-used eviction (negative answers in a
// quarter of it of their own, so a flood of names that do not exist cannot
// evict the answers clients use), a share of the flights per client,
// expired answers served
// for a bounded time while the resolver fails (RFC 8767, off by default),
// and popular names refreshed shortly before they expire.
//
// The cache holds what DNS said, never a verdict: every use of an answer is
// vetted again by its caller (net::Dialer::plan), so a policy reload never
// needs a flush. It does no I/O and knows neither c-ares nor Asio: the
// resolver (resolver.hpp) sends the queries a flight needs and reports
// them with complete(); the clock is injected, so tests drive time.
//
// Thread safety: every member may be called from any thread. The names are
// spread over shards, each with its own lock, held only to look up, link or
// unlink; waiters are called outside every lock.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <chokepoint/core/ip.hpp>

namespace chokepoint::net {

using DnsClock = std::chrono::steady_clock;

// How a lookup was served: the audit record's `dns` key.
enum class DnsServed : std::uint8_t {
  Hit,        // from the cache (or the hosts file): no query, 0 ms
  Miss,       // this lookup started the queries and waited for them
  Coalesced,  // joined queries another lookup (of any thread) had started
  Stale,      // an expired answer, because the resolver failed (--dns-stale-for)
};
std::string_view to_string(DnsServed served);

enum class DnsStatus : std::uint8_t {
  Addresses,  // at least one A or AAAA record
  NotFound,   // NXDOMAIN
  NoData,     // the name exists but has no A or AAAA record
  Failed,     // SERVFAIL, REFUSED, an unreachable server, a bad answer: never cached
  Timeout,    // no answer in time: never cached
  Refused,    // not asked: too many names in flight (DnsCacheOptions::max_in_flight)
};
std::string_view to_string(DnsStatus status);

// What a lookup learnt; immutable, shared by the cache and its users.
struct DnsAnswer {
  DnsStatus status = DnsStatus::Failed;
  std::vector<IpAddress> addresses;  // A answers, then AAAA answers, each in the server's order
  std::string detail;                // why, for failures: "SERVFAIL", "no answer within 5000 ms"
};

// A finished flight, as the resolver reports it.
struct DnsResolution {
  DnsStatus status = DnsStatus::Failed;
  std::vector<IpAddress> addresses;
  // Seconds: for addresses the smallest TTL of the records (CNAMEs
  // included), for NotFound and NoData the RFC 2308 TTL (dns_message.hpp);
  // nullopt: do not cache (a negative answer without SOA).
  std::optional<std::uint32_t> ttl;
  std::string detail;
};

struct DnsOutcome {
  std::shared_ptr<const DnsAnswer> answer;
  DnsServed served = DnsServed::Miss;
};

// Someone waiting for a flight. deliver() is called at most once, on the
// thread that completes the flight, outside every lock of the cache; it
// must not block (the resolver's waiter posts to its own executor).
class DnsWaiter {
 public:
  virtual ~DnsWaiter() = default;
  virtual void deliver(const DnsOutcome& outcome) = 0;
};

// The fields named after a flag are settings: their values, defaults
// included, come from the settings table through net::dns_cache_options()
// (net/options.hpp). Value-initialised here they are zero: nothing cached.
struct DnsCacheOptions {
  std::chrono::milliseconds min_ttl{};       // --dns-min-ttl
  std::chrono::milliseconds max_ttl{};       // --dns-max-ttl
  std::chrono::milliseconds negative_ttl{};  // --dns-negative-ttl (0: not cached)
  std::chrono::milliseconds stale_for{};     // --dns-stale-for (0: never stale)
  std::size_t capacity = 0;                  // --dns-cache-size: names kept (0: none)
  std::size_t max_in_flight = 1'024;         // names being resolved at once, all threads
  // Of those, the most one client may have started and not seen end
  // (--dns-max-in-flight-per-client; 0: no share): one client's silent
  // names cannot take the others' lookups.
  std::size_t max_in_flight_per_client = 0;
  std::size_t shards = 16;  // locks; more shards, less contention
};

// Latency buckets of real queries, in milliseconds (upper bounds; +Inf implied).
inline constexpr std::array<std::int64_t, 12> kDnsLatencyBucketsMs = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};

// A copy of the counters (metrics; a future GET /dns).
struct DnsStats {
  std::uint64_t lookups = 0;         // every find()
  std::uint64_t hits = 0;            // answered from the cache
  std::uint64_t misses = 0;          // started a flight and waited for it
  std::uint64_t coalesced = 0;       // joined a flight in progress
  std::uint64_t stale = 0;           // served an expired answer
  std::uint64_t refused = 0;         // lookups refused: max_in_flight names in flight
  std::uint64_t refused_client = 0;  // of those, refused for their client's share
  std::uint64_t prefetches = 0;      // flights started to refresh a popular name before expiry
  std::uint64_t evictions = 0;       // answers evicted for room (least recently used)
  std::uint64_t queries = 0;         // questions sent (A and AAAA count one each; retries not)
  std::uint64_t answers = 0;         // flights that ended with addresses
  std::uint64_t not_found = 0;       // flights that ended NXDOMAIN
  std::uint64_t no_data = 0;         // flights that ended NODATA
  std::uint64_t failed = 0;     // flights that ended SERVFAIL, REFUSED, unreachable, bad answer
  std::uint64_t timeouts = 0;   // flights that ended without an answer in time
  std::uint64_t gave_up = 0;    // waiters whose deadline came before their flight ended
  std::uint64_t in_flight = 0;  // names being resolved now (a gauge)
  std::uint64_t cached = 0;     // names held now (a gauge)
  // Flight durations (real queries only), in the buckets of kDnsLatencyBucketsMs.
  std::array<std::uint64_t, kDnsLatencyBucketsMs.size() + 1> latency{};
  std::uint64_t latency_count = 0;
  std::uint64_t latency_sum_ms = 0;
};

// One name of the cache, for listings.
struct DnsCacheItem {
  std::string name;
  DnsStatus status = DnsStatus::Addresses;
  std::vector<IpAddress> addresses;
  std::int64_t ttl_left_ms =
      0;                   // negative once expired (kept for --dns-stale-for, or until evicted)
  std::uint64_t hits = 0;  // lookups answered by this answer
};

class DnsCache {
 public:
  using Now = std::function<DnsClock::time_point()>;
  explicit DnsCache(DnsCacheOptions options, Now now = &DnsClock::now);
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;
  ~DnsCache();

  struct Found {
    std::shared_ptr<const DnsAnswer> answer;
    DnsServed served = DnsServed::Hit;  // Hit or Stale
    // The caller now leads a flight for the name (a popular name close to
    // its expiry, or a retry behind a stale answer): it must send the
    // queries and call complete(), nobody waiting.
    bool refresh = false;
  };
  // Step one of every lookup (counted in `lookups`): a fresh answer (Hit),
  // or, while the resolver is failing and stale_for allows, an expired one
  // (Stale); nullopt when the name needs queries (then call wait()).
  std::optional<Found> find(std::string_view name);

  struct Joined {
    enum class Kind : std::uint8_t {
      Answered,  // an answer arrived meanwhile: `found` holds it, the waiter is not kept
      Waiting,   // joined the flight in progress: the waiter will be called (Coalesced)
      Lead,      // started a flight: send the queries, then complete(); the waiter is called (Miss)
      Refused,   // max_in_flight names in flight, or the client's share of them:
                 // `found` holds a stale answer if one may be served
    };
    Kind kind = Kind::Refused;
    std::optional<Found> found;
    bool client_share = false;  // Refused: the client's share was the limit
  };
  // Step two, for a name find() did not answer: wait for its flight. A
  // flight this call starts counts against `client`'s share (a client_key;
  // empty: nobody's) until it ends; joining one counts against nothing.
  Joined wait(std::string_view name, std::shared_ptr<DnsWaiter> waiter,
              std::string_view client = {});

  // A waiter whose deadline has come: it is dropped from its flight (which
  // goes on, and fills the cache if it gets an answer). Returns the expired
  // answer to serve instead when stale_for allows one (counted as stale),
  // else null (counted in `gave_up`).
  std::shared_ptr<const DnsAnswer> give_up(std::string_view name, const DnsWaiter* waiter);

  // The flight of `name` has ended after `took`: the answer is stored (TTL
  // clamped: addresses to [min_ttl, max_ttl], negative answers to
  // [min(min_ttl, negative_ttl), negative_ttl]; failures not at all) and
  // every waiter is called. A failed flight gives its waiters the expired
  // answer instead, when stale_for allows one.
  void complete(std::string_view name, DnsResolution resolution, std::chrono::milliseconds took);

  // The flight of `name` ends unanswered and its waiters are dropped without
  // a call (their resolver is being destroyed).
  void abandon(std::string_view name);

  // Counts questions sent to servers.
  void count_queries(std::uint64_t n) { queries_.fetch_add(n, std::memory_order_relaxed); }

  DnsStats stats() const;
  // Up to `limit` names with what they hold now, most recently used first within each shard.
  std::vector<DnsCacheItem> list(std::size_t limit = SIZE_MAX) const;
  const DnsCacheOptions& options() const { return options_; }

 private:
  struct Entry;
  struct Flight;
  struct Shard;
  Shard& shard_of(std::string_view name) const;
  bool take_flight_slot();
  bool take_client_slot(std::string_view client);
  void release_client_slot(const std::string& client);
  // Makes room in `shard` for one more answer of `negative` kind.
  void evict_for(Shard& shard, bool negative, std::optional<Entry>& evicted);
  std::shared_ptr<const DnsAnswer> stale_answer(Entry& entry, DnsClock::time_point now) const;

  DnsCacheOptions options_;
  Now now_;
  std::size_t shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<std::size_t> flights_{0};
  std::mutex clients_mutex_;  // after a shard's, never before
  std::unordered_map<std::string, std::size_t> flights_by_client_;
  mutable std::atomic<std::uint64_t> lookups_{0}, hits_{0}, misses_{0}, coalesced_{0}, stale_{0},
      refused_{0}, refused_client_{0}, prefetches_{0}, evictions_{0}, queries_{0}, answers_{0},
      not_found_{0}, no_data_{0}, failed_{0}, timeouts_{0}, gave_up_{0}, latency_count_{0},
      latency_sum_ms_{0};
  std::array<std::atomic<std::uint64_t>, kDnsLatencyBucketsMs.size() + 1> latency_{};
};

}  // namespace chokepoint::net
