#include <thread>

#include <catch2/catch.hpp>

#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/net/options.hpp>

using namespace chokepoint;
using namespace chokepoint::net;
using namespace std::chrono_literals;

namespace {

// Time moves only when the test says so.
struct FakeClock {
  DnsClock::time_point now = DnsClock::time_point() + 1000h;
  DnsCache::Now source() {
    return [this] { return now; };
  }
};

struct Recorder : DnsWaiter {
  std::vector<DnsOutcome> outcomes;
  void deliver(const DnsOutcome& outcome) override { outcomes.push_back(outcome); }
};

// The settings' defaults (the per-client share among them), with this
// test's TTLs and size.
DnsCacheOptions options(std::size_t capacity = 100) {
  DnsCacheOptions o = dns_cache_options(config::Settings{});
  o.min_ttl = 5s;
  o.max_ttl = 1h;
  o.negative_ttl = 30s;
  o.capacity = capacity;
  o.shards = 1;  // one LRU order, so eviction is exact
  return o;
}

DnsResolution addresses(std::vector<const char*> texts, std::optional<std::uint32_t> ttl) {
  DnsResolution r;
  r.status = DnsStatus::Addresses;
  for (const char* t : texts)
    r.addresses.push_back(*IpAddress::parse(t));
  r.ttl = ttl;
  return r;
}

DnsResolution failure(DnsStatus status, std::optional<std::uint32_t> ttl = std::nullopt) {
  DnsResolution r;
  r.status = status;
  r.ttl = ttl;
  r.detail = std::string(to_string(status));
  return r;
}

// Resolves `name` as the resolver would, answering with `resolution`.
void resolve(DnsCache& cache, std::string_view name, DnsResolution resolution) {
  REQUIRE_FALSE(cache.find(name));
  auto waiter = std::make_shared<Recorder>();
  REQUIRE(cache.wait(name, waiter).kind == DnsCache::Joined::Kind::Lead);
  cache.complete(name, std::move(resolution), 3ms);
  REQUIRE(waiter->outcomes.size() == 1);
}

std::string first_address(const std::optional<DnsCache::Found>& found) {
  REQUIRE(found);
  REQUIRE_FALSE(found->answer->addresses.empty());
  return found->answer->addresses.front().to_string();
}

}  // namespace

TEST_CASE("an answer is kept for its TTL, then asked again", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(), clock.source());
  resolve(cache, "a.example", addresses({"192.0.2.1"}, 60));
  clock.now += 59s;
  const auto found = cache.find("a.example");
  CHECK(first_address(found) == "192.0.2.1");
  CHECK(found->served == DnsServed::Hit);
  clock.now += 1s;
  CHECK_FALSE(cache.find("a.example"));
  resolve(cache, "a.example", addresses({"192.0.2.2"}, 60));
  CHECK(first_address(cache.find("a.example")) == "192.0.2.2");
}

TEST_CASE("TTLs are clamped to the minimum and the maximum", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(), clock.source());
  resolve(cache, "zero.example", addresses({"192.0.2.1"}, 0));
  resolve(cache, "none.example", addresses({"192.0.2.1"}, std::nullopt));
  resolve(cache, "long.example", addresses({"192.0.2.1"}, 86'400));
  clock.now += 4s;
  CHECK(cache.find("zero.example"));
  CHECK(cache.find("none.example"));
  clock.now += 1s;  // min_ttl 5 s
  CHECK_FALSE(cache.find("zero.example"));
  CHECK_FALSE(cache.find("none.example"));
  clock.now += 1h - 5s - 1s;
  CHECK(cache.find("long.example"));
  clock.now += 1s;  // max_ttl 1 h
  CHECK_FALSE(cache.find("long.example"));
}

TEST_CASE("negative answers are kept for their SOA TTL, clamped", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(), clock.source());
  resolve(cache, "gone.example", failure(DnsStatus::NotFound, 3600));
  resolve(cache, "empty.example", failure(DnsStatus::NoData, 10));
  resolve(cache, "brief.example", failure(DnsStatus::NotFound, 0));
  resolve(cache, "nosoa.example", failure(DnsStatus::NotFound));
  auto found = cache.find("gone.example");
  REQUIRE(found);
  CHECK(found->answer->status == DnsStatus::NotFound);
  CHECK(found->served == DnsServed::Hit);
  CHECK(cache.find("empty.example")->answer->status == DnsStatus::NoData);
  CHECK_FALSE(cache.find("nosoa.example"));  // RFC 2308: no SOA, no caching
  clock.now += 4s;
  CHECK(cache.find("brief.example"));  // raised to min_ttl
  clock.now += 1s;
  CHECK_FALSE(cache.find("brief.example"));
  clock.now += 5s;
  CHECK_FALSE(cache.find("empty.example"));  // its own 10 s
  clock.now += 20s;
  CHECK_FALSE(cache.find("gone.example"));  // cut to negative_ttl, 30 s

  DnsCacheOptions off = options();
  off.negative_ttl = 0s;
  DnsCache no_negative(off, clock.source());
  resolve(no_negative, "gone.example", failure(DnsStatus::NotFound, 3600));
  CHECK_FALSE(no_negative.find("gone.example"));
}

TEST_CASE("failures and timeouts are not cached", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(), clock.source());
  resolve(cache, "broken.example", failure(DnsStatus::Failed));
  resolve(cache, "silent.example", failure(DnsStatus::Timeout));
  CHECK_FALSE(cache.find("broken.example"));
  CHECK_FALSE(cache.find("silent.example"));
  const DnsStats stats = cache.stats();
  CHECK(stats.failed == 1);
  CHECK(stats.timeouts == 1);
  CHECK(stats.cached == 0);
}

TEST_CASE("a full cache evicts the least recently used name", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(2), clock.source());
  resolve(cache, "a.example", addresses({"192.0.2.1"}, 60));
  resolve(cache, "b.example", addresses({"192.0.2.2"}, 60));
  CHECK(cache.find("a.example"));  // a is now more recent than b
  resolve(cache, "c.example", addresses({"192.0.2.3"}, 60));
  CHECK(cache.find("a.example"));
  CHECK(cache.find("c.example"));
  CHECK_FALSE(cache.find("b.example"));
  CHECK(cache.stats().evictions == 1);
  CHECK(cache.stats().cached == 2);

  DnsCache none(options(0), clock.source());
  resolve(none, "a.example", addresses({"192.0.2.1"}, 60));
  CHECK_FALSE(none.find("a.example"));
}

TEST_CASE("concurrent lookups of one name share one flight", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(), clock.source());
  auto leader = std::make_shared<Recorder>();
  auto second = std::make_shared<Recorder>();
  auto third = std::make_shared<Recorder>();
  CHECK(cache.wait("a.example", leader).kind == DnsCache::Joined::Kind::Lead);
  CHECK(cache.wait("a.example", second).kind == DnsCache::Joined::Kind::Waiting);
  CHECK(cache.wait("a.example", third).kind == DnsCache::Joined::Kind::Waiting);
  CHECK(cache.stats().in_flight == 1);
  cache.complete("a.example", addresses({"192.0.2.1"}, 60), 7ms);
  REQUIRE(leader->outcomes.size() == 1);
  REQUIRE(second->outcomes.size() == 1);
  REQUIRE(third->outcomes.size() == 1);
  CHECK(leader->outcomes[0].served == DnsServed::Miss);
  CHECK(second->outcomes[0].served == DnsServed::Coalesced);
  CHECK(third->outcomes[0].answer == leader->outcomes[0].answer);  // one answer, shared
  const DnsStats stats = cache.stats();
  CHECK(stats.misses == 1);
  CHECK(stats.coalesced == 2);
  CHECK(stats.in_flight == 0);
  CHECK(stats.latency_count == 1);
  CHECK(stats.latency[3] == 1);  // 7 ms: the "<= 10 ms" bucket
}

TEST_CASE("single flight holds across threads", "[net][dns_cache]") {
  DnsCache cache(options());
  constexpr int kThreads = 8;
  std::atomic<int> leads{0};
  std::vector<std::shared_ptr<Recorder>> waiters(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    waiters[static_cast<std::size_t>(i)] = std::make_shared<Recorder>();
    threads.emplace_back([&, i] {
      if (!cache.find("shared.example")) {
        const auto joined = cache.wait("shared.example", waiters[static_cast<std::size_t>(i)]);
        if (joined.kind == DnsCache::Joined::Kind::Lead) ++leads;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  CHECK(leads == 1);
  std::thread completer(
      [&] { cache.complete("shared.example", addresses({"192.0.2.9"}, 60), 1ms); });
  completer.join();
  for (const auto& w : waiters)
    CHECK(w->outcomes.size() == 1);
}

TEST_CASE("a waiter that gives up leaves its flight", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(), clock.source());
  auto leader = std::make_shared<Recorder>();
  auto quitter = std::make_shared<Recorder>();
  cache.wait("slow.example", leader);
  cache.wait("slow.example", quitter);
  CHECK_FALSE(cache.give_up("slow.example", quitter.get()));
  cache.complete("slow.example", addresses({"192.0.2.1"}, 60), 5000ms);
  CHECK(leader->outcomes.size() == 1);
  CHECK(quitter->outcomes.empty());
  CHECK(cache.find("slow.example"));  // the late answer still fills the cache
  CHECK(cache.stats().gave_up == 1);
}

TEST_CASE("an abandoned flight drops its waiters uncalled", "[net][dns_cache]") {
  DnsCache cache(options());
  auto waiter = std::make_shared<Recorder>();
  cache.wait("a.example", waiter);
  cache.abandon("a.example");
  CHECK(waiter->outcomes.empty());
  CHECK(cache.stats().in_flight == 0);
  CHECK(cache.wait("a.example", waiter).kind == DnsCache::Joined::Kind::Lead);
}

TEST_CASE("names in flight are bounded, refusals counted", "[net][dns_cache]") {
  FakeClock clock;
  DnsCacheOptions o = options();
  o.max_in_flight = 2;
  DnsCache cache(o, clock.source());
  auto w = std::make_shared<Recorder>();
  CHECK(cache.wait("one.example", w).kind == DnsCache::Joined::Kind::Lead);
  CHECK(cache.wait("two.example", w).kind == DnsCache::Joined::Kind::Lead);
  CHECK(cache.wait("one.example", w).kind == DnsCache::Joined::Kind::Waiting);  // joining is free
  CHECK(cache.wait("three.example", w).kind == DnsCache::Joined::Kind::Refused);
  CHECK(cache.stats().refused == 1);
  cache.complete("one.example", addresses({"192.0.2.1"}, 60), 1ms);
  CHECK(cache.wait("three.example", w).kind == DnsCache::Joined::Kind::Lead);
}

TEST_CASE("expired answers are served while the resolver fails, within stale_for",
          "[net][dns_cache]") {
  FakeClock clock;
  DnsCacheOptions o = options();
  o.stale_for = 60s;
  DnsCache cache(o, clock.source());
  resolve(cache, "a.example", addresses({"192.0.2.1"}, 10));
  clock.now += 11s;
  CHECK_FALSE(cache.find("a.example"));  // expired, and nothing has failed yet: ask
  auto waiter = std::make_shared<Recorder>();
  REQUIRE(cache.wait("a.example", waiter).kind == DnsCache::Joined::Kind::Lead);
  cache.complete("a.example", failure(DnsStatus::Timeout), 5000ms);
  REQUIRE(waiter->outcomes.size() == 1);
  CHECK(waiter->outcomes[0].served == DnsServed::Stale);
  CHECK(waiter->outcomes[0].answer->addresses.front().to_string() == "192.0.2.1");

  // While failing: served stale at once, a retry now and then.
  auto found = cache.find("a.example");
  REQUIRE(found);
  CHECK(found->served == DnsServed::Stale);
  CHECK_FALSE(found->refresh);
  clock.now += 5s;
  found = cache.find("a.example");
  REQUIRE(found);
  CHECK(found->refresh);  // this caller now leads a retry
  cache.complete("a.example", addresses({"192.0.2.2"}, 10), 1ms);
  found = cache.find("a.example");
  CHECK(found->served == DnsServed::Hit);
  CHECK(first_address(found) == "192.0.2.2");

  // Past the window, nothing stale is served.
  clock.now += 10s + 60s;
  CHECK_FALSE(cache.find("a.example"));
  auto late = std::make_shared<Recorder>();
  cache.wait("a.example", late);
  cache.complete("a.example", failure(DnsStatus::Failed), 1ms);
  CHECK(late->outcomes[0].answer->status == DnsStatus::Failed);
}

TEST_CASE("a waiter whose deadline comes gets the stale answer", "[net][dns_cache]") {
  FakeClock clock;
  DnsCacheOptions o = options();
  o.stale_for = 60s;
  DnsCache cache(o, clock.source());
  resolve(cache, "a.example", addresses({"192.0.2.1"}, 10));
  clock.now += 20s;
  auto waiter = std::make_shared<Recorder>();
  cache.wait("a.example", waiter);
  const auto stale = cache.give_up("a.example", waiter.get());
  REQUIRE(stale);
  CHECK(stale->addresses.front().to_string() == "192.0.2.1");
  CHECK(cache.find("a.example")->served == DnsServed::Stale);  // known failing now
}

TEST_CASE("NXDOMAIN is not hidden by a stale answer", "[net][dns_cache]") {
  FakeClock clock;
  DnsCacheOptions o = options();
  o.stale_for = 60s;
  DnsCache cache(o, clock.source());
  resolve(cache, "a.example", addresses({"192.0.2.1"}, 10));
  clock.now += 11s;
  resolve(cache, "a.example", failure(DnsStatus::NotFound));  // no SOA: not cached either
  CHECK_FALSE(cache.find("a.example"));
  auto waiter = std::make_shared<Recorder>();
  cache.wait("a.example", waiter);
  cache.complete("a.example", failure(DnsStatus::Timeout), 1ms);
  CHECK(waiter->outcomes[0].answer->status == DnsStatus::Timeout);
}

TEST_CASE("popular names are refreshed shortly before they expire", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(), clock.source());
  resolve(cache, "popular.example", addresses({"192.0.2.1"}, 100));
  resolve(cache, "rare.example", addresses({"192.0.2.1"}, 100));
  for (int i = 0; i < 3; ++i)
    CHECK_FALSE(cache.find("popular.example")->refresh);  // far from expiry
  clock.now += 91s;                                       // within the last tenth
  CHECK_FALSE(cache.find("rare.example")->refresh);       // one use is not popular
  auto found = cache.find("popular.example");
  CHECK(found->refresh);
  CHECK(found->served == DnsServed::Hit);
  CHECK_FALSE(cache.find("popular.example")->refresh);  // one refresh at a time
  CHECK(cache.stats().prefetches == 1);
  cache.complete("popular.example", addresses({"192.0.2.5"}, 100), 2ms);
  clock.now += 50s;  // past the first answer's expiry
  CHECK(first_address(cache.find("popular.example")) == "192.0.2.5");
}

TEST_CASE("the listing shows names, addresses, TTL left and hits", "[net][dns_cache]") {
  FakeClock clock;
  DnsCache cache(options(), clock.source());
  resolve(cache, "a.example", addresses({"192.0.2.1", "2001:db8::1"}, 60));
  cache.find("a.example");
  cache.find("a.example");
  clock.now += 10s;
  const auto items = cache.list();
  REQUIRE(items.size() == 1);
  CHECK(items[0].name == "a.example");
  CHECK(items[0].addresses.size() == 2);
  CHECK(items[0].ttl_left_ms == 50'000);
  CHECK(items[0].hits == 2);
  CHECK(cache.stats().lookups == 3);
  CHECK(cache.stats().hits == 2);
}

TEST_CASE("one client's names in flight are capped, others still resolve", "[net][dns_cache]") {
  // Issue 19: five addresses with 256 connections each to silent names took
  // every flight, and 77 of 80 good names failed "resolver busy".
  FakeClock clock;
  DnsCacheOptions o = options();
  o.max_in_flight = 100;
  o.max_in_flight_per_client = 10;
  DnsCache cache(o, clock.source());
  int led = 0;
  int refused_for_share = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string name = "silent-" + std::to_string(i) + ".example";
    const auto joined = cache.wait(name, std::make_shared<Recorder>(), "attacker");
    if (joined.kind == DnsCache::Joined::Kind::Lead) ++led;
    if (joined.kind == DnsCache::Joined::Kind::Refused && joined.client_share) ++refused_for_share;
  }
  CHECK(led == 10);
  CHECK(refused_for_share == 40);
  CHECK(cache.stats().refused_client == 40);
  // Joining a flight another client started costs the attacker nothing more.
  CHECK(cache.wait("silent-0.example", std::make_shared<Recorder>(), "attacker").kind ==
        DnsCache::Joined::Kind::Waiting);
  // Another client is not held up.
  for (int i = 0; i < 10; ++i) {
    const std::string name = "good-" + std::to_string(i) + ".example";
    CHECK(cache.wait(name, std::make_shared<Recorder>(), "agent").kind ==
          DnsCache::Joined::Kind::Lead);
  }
  // A flight that ends gives its client's slot back, whatever its outcome.
  cache.complete("silent-0.example", failure(DnsStatus::Timeout), 5000ms);
  cache.abandon("silent-1.example");
  CHECK(cache.wait("silent-50.example", std::make_shared<Recorder>(), "attacker").kind ==
        DnsCache::Joined::Kind::Lead);
  CHECK(cache.wait("silent-51.example", std::make_shared<Recorder>(), "attacker").kind ==
        DnsCache::Joined::Kind::Lead);
  CHECK(cache.wait("silent-52.example", std::make_shared<Recorder>(), "attacker").kind ==
        DnsCache::Joined::Kind::Refused);
}

TEST_CASE("a flood of names that do not exist evicts no answer in use", "[net][dns_cache]") {
  // Issue 19: 30,000 NXDOMAIN names evicted good positive answers.
  FakeClock clock;
  DnsCache cache(options(100), clock.source());
  for (int i = 0; i < 50; ++i)
    resolve(cache, "good-" + std::to_string(i) + ".example", addresses({"192.0.2.1"}, 300));
  for (int i = 0; i < 30000; ++i)
    resolve(cache, "nx-" + std::to_string(i) + ".example", failure(DnsStatus::NotFound, 60));
  for (int i = 0; i < 50; ++i) {
    INFO(i);
    CHECK(cache.find("good-" + std::to_string(i) + ".example"));
  }
  // Negative answers keep their quarter, most recent first.
  CHECK(cache.stats().cached == 50 + 25);
  CHECK(cache.find("nx-29999.example"));
  CHECK_FALSE(cache.find("nx-0.example"));
  // Positive answers still take the whole cache when they need it,
  // pushing out negative ones first.
  for (int i = 50; i < 100; ++i)
    resolve(cache, "good-" + std::to_string(i) + ".example", addresses({"192.0.2.1"}, 300));
  CHECK(cache.stats().cached == 100);
  CHECK(cache.find("good-0.example"));
  CHECK(cache.find("good-99.example"));
  // A name whose answer changes kind moves with it.
  clock.now += 301s;
  resolve(cache, "good-0.example", failure(DnsStatus::NotFound, 60));
  CHECK(cache.find("good-0.example")->answer->status == DnsStatus::NotFound);
}
