// The cost of a DNS cache lookup (net/dns_cache.hpp), the step every
// connection to a name takes: a hit on one popular name (every thread
// contends for the same shard), hits spread over many names, and a miss
// answered and stored (the cache's share of a real lookup).
//
//   build/bench/bench_dns_cache --benchmark_min_time=0.5
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/net/options.hpp>

using namespace chokepoint;
using namespace chokepoint::net;

namespace {

struct Nobody : DnsWaiter {
  void deliver(const DnsOutcome&) override {}
};

DnsResolution answer() {
  DnsResolution r;
  r.status = DnsStatus::Addresses;
  r.addresses = {*IpAddress::parse("192.0.2.1"), *IpAddress::parse("2001:db8::1")};
  r.ttl = 3600;
  return r;
}

std::vector<std::string> names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back("host-" + std::to_string(i) + ".example.com");
  return out;
}

DnsCache& filled(const std::vector<std::string>& all) {
  static DnsCache cache(dns_cache_options(config::Settings{}));
  static bool done = false;
  if (!done) {
    auto waiter = std::make_shared<Nobody>();
    for (const auto& name : all) {
      cache.wait(name, waiter);
      cache.complete(name, answer(), std::chrono::milliseconds(1));
    }
    done = true;
  }
  return cache;
}

void BM_HitOneName(benchmark::State& state) {
  static const auto all = names(1000);
  DnsCache& cache = filled(all);
  for (auto _ : state)
    benchmark::DoNotOptimize(cache.find(all[7]));
}
BENCHMARK(BM_HitOneName)->Threads(1)->Threads(2)->UseRealTime();

void BM_HitManyNames(benchmark::State& state) {
  static const auto all = names(1000);
  DnsCache& cache = filled(all);
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 37;
  for (auto _ : state)
    benchmark::DoNotOptimize(cache.find(all[i++ % all.size()]));
}
BENCHMARK(BM_HitManyNames)->Threads(1)->Threads(2)->UseRealTime();

void BM_MissStoreAndDeliver(benchmark::State& state) {
  DnsCacheOptions options = dns_cache_options(config::Settings{});
  options.capacity = 1000;  // evicting as it goes, as a flood of new names would
  DnsCache cache(options);
  auto waiter = std::make_shared<Nobody>();
  const auto all = names(100'000);
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& name = all[i++ % all.size()];
    benchmark::DoNotOptimize(cache.find(name));
    cache.wait(name, waiter);
    cache.complete(name, answer(), std::chrono::milliseconds(1));
  }
}
BENCHMARK(BM_MissStoreAndDeliver);

}  // namespace

BENCHMARK_MAIN();
