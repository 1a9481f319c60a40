#include <algorithm>

#include <chokepoint/net/dns_cache.hpp>

namespace chokepoint::net {
namespace {

using std::chrono::milliseconds;

// A name looked up this often within its TTL is refreshed before it expires
// (Unbound's prefetch, in spirit): once is not popular, and refreshing every
// name ever seen would keep the resolver busy for names nobody uses.
constexpr std::uint64_t kPrefetchHits = 3;
// Refresh that long before expiry: a tenth of the TTL, at least a second.
constexpr milliseconds kMinPrefetchWindow{1'000};
// While the resolver fails and an expired answer is being served, a new
// attempt is made no more often than this (RFC 8767's "failure recheck",
// shortened: the answers being served are already past their TTL).
constexpr milliseconds kStaleRecheck{5'000};
// Negative answers (NXDOMAIN, no data) may hold at most this part of the
// cache: they are cheap to ask again, and a flood of made-up names must not
// push out the answers clients use.
constexpr std::size_t kNegativeShare = 4;

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

std::int64_t to_ms(DnsClock::duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

}  // namespace

std::string_view to_string(DnsServed served) {
  switch (served) {
    case DnsServed::Hit:
      return "hit";
    case DnsServed::Miss:
      return "miss";
    case DnsServed::Coalesced:
      return "coalesced";
    case DnsServed::Stale:
      return "stale";
  }
  return "miss";
}

std::string_view to_string(DnsStatus status) {
  switch (status) {
    case DnsStatus::Addresses:
      return "addresses";
    case DnsStatus::NotFound:
      return "nxdomain";
    case DnsStatus::NoData:
      return "nodata";
    case DnsStatus::Failed:
      return "failed";
    case DnsStatus::Timeout:
      return "timeout";
    case DnsStatus::Refused:
      return "refused";
  }
  return "failed";
}

struct DnsCache::Entry {
  std::string name;
  std::shared_ptr<const DnsAnswer> answer;
  DnsClock::time_point stored;
  DnsClock::time_point expires;
  std::uint64_t hits = 0;  // since stored
  bool failing = false;    // the last flight for the name failed: serve stale (if allowed)
  DnsClock::time_point retry_at{};
};

struct DnsCache::Flight {
  std::vector<std::pair<std::shared_ptr<DnsWaiter>, DnsServed>> waiters;
  std::string client;  // whose share it counts against (empty: nobody's)
};

struct DnsCache::Shard {
  mutable std::mutex mutex;
  // Addresses and negative answers, each most recently used first; a name
  // is in the list its answer's kind says (list nodes move between them by
  // splice, never by copy).
  std::list<Entry> lru;
  std::list<Entry> negative_lru;
  // Keys view the entries' own names (list nodes never move).
  std::unordered_map<std::string_view, std::list<Entry>::iterator, Hash> entries;
  std::unordered_map<std::string, Flight, Hash, std::equal_to<>> flights;

  std::list<Entry>& list_for(const DnsAnswer& answer) {
    return answer.status == DnsStatus::Addresses ? lru : negative_lru;
  }
  // The name was used: first in its list.
  void touch(std::list<Entry>::iterator entry) {
    std::list<Entry>& list = list_for(*entry->answer);
    list.splice(list.begin(), list, entry);
  }
  std::size_t size() const { return lru.size() + negative_lru.size(); }
};

DnsCache::DnsCache(DnsCacheOptions options, Now now)
    : options_(options),
      now_(std::move(now)),
      shard_capacity_(0),
      shards_(new Shard[std::max<std::size_t>(1, options.shards)]) {
  options_.shards = std::max<std::size_t>(1, options_.shards);
  // A maximum below the minimum (a file's one and a flag's other) gives way.
  options_.max_ttl = std::max(options_.max_ttl, options_.min_ttl);
  shard_capacity_ = (options_.capacity + options_.shards - 1) / options_.shards;
}

DnsCache::~DnsCache() = default;

DnsCache::Shard& DnsCache::shard_of(std::string_view name) const {
  return shards_[std::hash<std::string_view>{}(name) % options_.shards];
}

bool DnsCache::take_client_slot(std::string_view client) {
  if (client.empty() || options_.max_in_flight_per_client == 0) return true;
  std::lock_guard lock(clients_mutex_);
  std::size_t& count = flights_by_client_[std::string(client)];
  if (count >= options_.max_in_flight_per_client) return false;
  ++count;
  return true;
}

void DnsCache::release_client_slot(const std::string& client) {
  if (client.empty() || options_.max_in_flight_per_client == 0) return;
  std::lock_guard lock(clients_mutex_);
  const auto it = flights_by_client_.find(client);
  if (it == flights_by_client_.end()) return;
  if (--it->second == 0) flights_by_client_.erase(it);
}

void DnsCache::evict_for(Shard& s, bool negative, std::optional<Entry>& evicted) {
  const std::size_t negative_capacity = std::max<std::size_t>(1, shard_capacity_ / kNegativeShare);
  std::list<Entry>* from = nullptr;
  if (negative && s.negative_lru.size() > negative_capacity) {
    from = &s.negative_lru;
  } else if (s.size() > shard_capacity_) {
    // Room for an answer of either kind is made among the negative ones first.
    from = s.negative_lru.empty() ? &s.lru : &s.negative_lru;
  }
  if (!from) return;
  s.entries.erase(from->back().name);
  evicted.emplace(std::move(from->back()));
  from->pop_back();
  evictions_.fetch_add(1, std::memory_order_relaxed);
}

bool DnsCache::take_flight_slot() {
  if (flights_.fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
    flights_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

std::shared_ptr<const DnsAnswer> DnsCache::stale_answer(Entry& entry,
                                                        DnsClock::time_point now) const {
  if (options_.stale_for.count() <= 0 || entry.answer->status != DnsStatus::Addresses) return {};
  if (now < entry.expires || now >= entry.expires + options_.stale_for) return {};
  return entry.answer;
}

std::optional<DnsCache::Found> DnsCache::find(std::string_view name) {
  lookups_.fetch_add(1, std::memory_order_relaxed);
  Shard& s = shard_of(name);
  const auto now = now_();
  std::lock_guard lock(s.mutex);
  const auto it = s.entries.find(name);
  if (it == s.entries.end()) return std::nullopt;
  Entry& e = *it->second;
  if (now < e.expires) {
    s.touch(it->second);
    ++e.hits;
    hits_.fetch_add(1, std::memory_order_relaxed);
    Found found{e.answer, DnsServed::Hit, false};
    const auto window =
        std::max<DnsClock::duration>(kMinPrefetchWindow, (e.expires - e.stored) / 10);
    if (e.answer->status == DnsStatus::Addresses && e.hits >= kPrefetchHits &&
        e.expires - now <= window && !s.flights.contains(name) && take_flight_slot()) {
      s.flights.emplace(std::string(name), Flight{});
      prefetches_.fetch_add(1, std::memory_order_relaxed);
      found.refresh = true;
    }
    return found;
  }
  if (!e.failing) return std::nullopt;
  auto stale = stale_answer(e, now);
  if (!stale) return std::nullopt;
  s.touch(it->second);
  ++e.hits;
  stale_.fetch_add(1, std::memory_order_relaxed);
  Found found{std::move(stale), DnsServed::Stale, false};
  if (now >= e.retry_at && !s.flights.contains(name) && take_flight_slot()) {
    e.retry_at = now + kStaleRecheck;
    s.flights.emplace(std::string(name), Flight{});
    found.refresh = true;
  }
  return found;
}

DnsCache::Joined DnsCache::wait(std::string_view name, std::shared_ptr<DnsWaiter> waiter,
                                std::string_view client) {
  Shard& s = shard_of(name);
  const auto now = now_();
  std::lock_guard lock(s.mutex);
  const auto it = s.entries.find(name);
  Entry* entry = it == s.entries.end() ? nullptr : &*it->second;
  if (entry && now < entry->expires) {
    // Answered while the caller was between find() and here.
    s.touch(it->second);
    ++entry->hits;
    hits_.fetch_add(1, std::memory_order_relaxed);
    return Joined{Joined::Kind::Answered, Found{entry->answer, DnsServed::Hit, false}};
  }
  if (const auto flight = s.flights.find(name); flight != s.flights.end()) {
    flight->second.waiters.emplace_back(std::move(waiter), DnsServed::Coalesced);
    coalesced_.fetch_add(1, std::memory_order_relaxed);
    return Joined{Joined::Kind::Waiting, std::nullopt};
  }
  const bool client_share = !take_client_slot(client);
  const bool refuse = client_share || !take_flight_slot();
  if (refuse) {
    if (!client_share) release_client_slot(std::string(client));
    refused_.fetch_add(1, std::memory_order_relaxed);
    if (client_share) refused_client_.fetch_add(1, std::memory_order_relaxed);
    Joined refused{Joined::Kind::Refused, std::nullopt, client_share};
    if (entry) {
      if (auto stale = stale_answer(*entry, now)) {
        stale_.fetch_add(1, std::memory_order_relaxed);
        refused.found = Found{std::move(stale), DnsServed::Stale, false};
      }
    }
    return refused;
  }
  Flight flight;
  flight.waiters.emplace_back(std::move(waiter), DnsServed::Miss);
  flight.client = std::string(client);
  s.flights.emplace(std::string(name), std::move(flight));
  misses_.fetch_add(1, std::memory_order_relaxed);
  return Joined{Joined::Kind::Lead, std::nullopt};
}

std::shared_ptr<const DnsAnswer> DnsCache::give_up(std::string_view name, const DnsWaiter* waiter) {
  Shard& s = shard_of(name);
  const auto now = now_();
  std::shared_ptr<DnsWaiter> dropped;  // released after the lock
  std::lock_guard lock(s.mutex);
  gave_up_.fetch_add(1, std::memory_order_relaxed);
  if (const auto flight = s.flights.find(name); flight != s.flights.end()) {
    auto& waiters = flight->second.waiters;
    const auto it = std::find_if(waiters.begin(), waiters.end(),
                                 [&](const auto& w) { return w.first.get() == waiter; });
    if (it != waiters.end()) {
      dropped = std::move(it->first);
      waiters.erase(it);
    }
  }
  const auto it = s.entries.find(name);
  if (it == s.entries.end()) return {};
  auto stale = stale_answer(*it->second, now);
  if (stale) {
    it->second->failing = true;
    stale_.fetch_add(1, std::memory_order_relaxed);
  }
  return stale;
}

void DnsCache::complete(std::string_view name, DnsResolution resolution, milliseconds took) {
  switch (resolution.status) {
    case DnsStatus::Addresses:
      answers_.fetch_add(1, std::memory_order_relaxed);
      break;
    case DnsStatus::NotFound:
      not_found_.fetch_add(1, std::memory_order_relaxed);
      break;
    case DnsStatus::NoData:
      no_data_.fetch_add(1, std::memory_order_relaxed);
      break;
    case DnsStatus::Timeout:
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      break;
    case DnsStatus::Failed:
    case DnsStatus::Refused:
      failed_.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  const std::int64_t ms = std::max<std::int64_t>(0, took.count());
  std::size_t bucket = 0;
  while (bucket < kDnsLatencyBucketsMs.size() && ms > kDnsLatencyBucketsMs[bucket])
    ++bucket;
  latency_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
  latency_sum_ms_.fetch_add(static_cast<std::uint64_t>(ms), std::memory_order_relaxed);

  auto answer = std::make_shared<DnsAnswer>(
      DnsAnswer{resolution.status, std::move(resolution.addresses), std::move(resolution.detail)});
  std::shared_ptr<const DnsAnswer> delivered = answer;
  bool stale = false;
  Flight flight;
  std::optional<Entry> evicted;  // destroyed after the lock
  Shard& s = shard_of(name);
  const auto now = now_();
  {
    std::lock_guard lock(s.mutex);
    if (const auto it = s.flights.find(name); it != s.flights.end()) {
      flight = std::move(it->second);
      s.flights.erase(it);
      flights_.fetch_sub(1, std::memory_order_relaxed);
      release_client_slot(flight.client);
    }
    const auto existing = s.entries.find(name);
    std::optional<milliseconds> ttl;
    switch (resolution.status) {
      case DnsStatus::Addresses:
        ttl = std::clamp(milliseconds(std::chrono::seconds(resolution.ttl.value_or(0))),
                         options_.min_ttl, options_.max_ttl);
        break;
      case DnsStatus::NotFound:
      case DnsStatus::NoData:
        if (resolution.ttl && options_.negative_ttl.count() > 0) {
          const milliseconds soa = std::chrono::seconds(*resolution.ttl);
          ttl = std::min(std::max(soa, options_.min_ttl), options_.negative_ttl);
        }
        break;
      case DnsStatus::Failed:
      case DnsStatus::Timeout:
      case DnsStatus::Refused:
        if (existing != s.entries.end()) {
          Entry& e = *existing->second;
          if (auto old = stale_answer(e, now)) {
            delivered = std::move(old);
            stale = true;
            e.failing = true;
            e.retry_at = now + kStaleRecheck;
          }
        }
        break;
    }
    const bool answered = resolution.status == DnsStatus::Addresses ||
                          resolution.status == DnsStatus::NotFound ||
                          resolution.status == DnsStatus::NoData;
    if (answered && (!ttl || shard_capacity_ == 0)) {
      // What DNS says now must not be shadowed by an older answer.
      if (existing != s.entries.end()) {
        const auto node = existing->second;
        s.entries.erase(existing);
        evicted.emplace(std::move(*node));
        s.list_for(*evicted->answer).erase(node);
      }
    } else if (answered) {
      std::list<Entry>& into = s.list_for(*answer);
      if (existing != s.entries.end()) {
        Entry& e = *existing->second;
        // Into the list of its new kind, first.
        into.splice(into.begin(), s.list_for(*e.answer), existing->second);
        e.answer = answer;
        e.stored = now;
        e.expires = now + *ttl;
        e.hits = 0;
        e.failing = false;
      } else {
        into.push_front(Entry{std::string(name), answer, now, now + *ttl, 0, false, {}});
        s.entries.emplace(into.front().name, into.begin());
      }
      evict_for(s, &into == &s.negative_lru, evicted);
    }
  }
  if (stale) stale_.fetch_add(flight.waiters.size(), std::memory_order_relaxed);
  for (auto& [waiter, served] : flight.waiters)
    waiter->deliver(DnsOutcome{delivered, stale ? DnsServed::Stale : served});
}

void DnsCache::abandon(std::string_view name) {
  Flight flight;  // its waiters are released after the lock, uncalled
  Shard& s = shard_of(name);
  std::lock_guard lock(s.mutex);
  if (const auto it = s.flights.find(name); it != s.flights.end()) {
    flight = std::move(it->second);
    s.flights.erase(it);
    flights_.fetch_sub(1, std::memory_order_relaxed);
    release_client_slot(flight.client);
  }
}

DnsStats DnsCache::stats() const {
  DnsStats out;
  const auto load = [](const std::atomic<std::uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
  };
  out.lookups = load(lookups_);
  out.hits = load(hits_);
  out.misses = load(misses_);
  out.coalesced = load(coalesced_);
  out.stale = load(stale_);
  out.refused = load(refused_);
  out.refused_client = load(refused_client_);
  out.prefetches = load(prefetches_);
  out.evictions = load(evictions_);
  out.queries = load(queries_);
  out.answers = load(answers_);
  out.not_found = load(not_found_);
  out.no_data = load(no_data_);
  out.failed = load(failed_);
  out.timeouts = load(timeouts_);
  out.gave_up = load(gave_up_);
  out.in_flight = flights_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < latency_.size(); ++i)
    out.latency[i] = load(latency_[i]);
  out.latency_count = load(latency_count_);
  out.latency_sum_ms = load(latency_sum_ms_);
  for (std::size_t i = 0; i < options_.shards; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    out.cached += shards_[i].size();
  }
  return out;
}

std::vector<DnsCacheItem> DnsCache::list(std::size_t limit) const {
  std::vector<DnsCacheItem> out;
  const auto now = now_();
  for (std::size_t i = 0; i < options_.shards && out.size() < limit; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    for (const auto* list : {&shards_[i].lru, &shards_[i].negative_lru}) {
      for (const Entry& e : *list) {
        if (out.size() >= limit) break;
        out.push_back(DnsCacheItem{e.name, e.answer->status, e.answer->addresses,
                                   to_ms(e.expires - now), e.hits});
      }
    }
  }
  return out;
}

}  // namespace chokepoint::net
