// Decisions per second on the shipped catalog and on a generated policy of
// 100,000 names, hits and misses; build time and memory of the big policy.
//
//   build/bench/bench_matcher --benchmark_min_time=0.5
//
// Goals (issue 2): >= 10M decisions/s on one core for the catalog, >= 5M at
// 100,000 names, 100,000 names compiled in under 300 ms.
#include <chrono>
#include <malloc.h>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <chokepoint/policy/loader.hpp>
#include <chokepoint/policy/snapshot.hpp>

using namespace chokepoint;
using namespace chokepoint::policy;

namespace {

Host host(const std::string& text) {
  Host h;
  normalize_host(text, h);
  return h;
}

std::shared_ptr<const Snapshot> build(Result<LoadedPolicy> loaded) {
  if (!loaded) {
    for (const auto& d : loaded.diagnostics())
      fprintf(stderr, "%s\n", d.to_string().c_str());
    std::abort();
  }
  return Snapshot::build(std::move(loaded).value().policy).value();
}

const Snapshot& catalog() {
  static const auto snapshot = build(load_builtin_config());
  return *snapshot;
}

constexpr int kNames = 100000;

// 100,000 destinations: 90% exact names, 9% "*.suffix" wildcards, 1% middle-label globs.
std::string generated_policy_text() {
  std::ostringstream y;
  y << "version: 1\nroles: {agent: {}}\nrules:\n  - id: generated\n    roles: [agent]\n    "
       "destinations:\n";
  for (int i = 0; i < kNames; ++i) {
    if (i % 100 == 0) {
      y << "      - 'api.*.svc" << i << ".example.com'\n";
    } else if (i % 10 == 0) {
      y << "      - '*.zone" << i << ".example.net'\n";
    } else {
      y << "      - host" << i << ".tenant" << (i % 997) << ".example.org\n";
    }
  }
  return y.str();
}

const Snapshot& generated() {
  static const auto snapshot = build(load_config_text(generated_policy_text(), "generated.yaml"));
  return *snapshot;
}

void run_decisions(benchmark::State& state, const Snapshot& s, const std::vector<Host>& hosts,
                   const ClientIdentity& client, bool expect_allowed) {
  std::size_t i = 0;
  std::size_t allowed = 0;
  for (auto _ : state) {
    const Decision d = s.decide(hosts[i], 443, client);
    allowed += d.let_out();
    benchmark::DoNotOptimize(d);
    if (++i == hosts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  if ((allowed == static_cast<std::size_t>(state.iterations())) != expect_allowed &&
      (allowed == 0) != !expect_allowed) {
    state.SkipWithError("unexpected decisions");
  }
}

std::vector<Host> catalog_hits() {
  return {host("ds20.icrc.trendmicro.com"),
          host("ds2000-en-census.trendmicro.com"),
          host("deepsec20-jp.gfrbridge.trendmicro.com"),
          host("ds20-en-b.trx.trendmicro.com"),
          host("iaus.activeupdate.trendmicro.com"),
          host("files.trendmicro.com"),
          host("ds20-0-en.url.trendmicro.com"),
          host("ds200-jp.fbs25.trendmicro.com")};
}

std::vector<Host> catalog_misses() {
  return {host("evil.example.com"),           host("www.google.com"),
          host("exfil.attacker.net"),         host("ds21.icrc.trendmicro.com"),
          host("s3.us-east-1.amazonaws.com"), host("storage.googleapis.com"),
          host("a.b.c.d.example.org"),        host("trendmicro.com.evil.example")};
}

void BM_CatalogHit(benchmark::State& state) {
  const Snapshot& s = catalog();
  run_decisions(state, s, catalog_hits(),
                s.identity_for(s.policy().find_role("agent"), Version::parse("20.0")), true);
}
BENCHMARK(BM_CatalogHit);

void BM_CatalogWildcardHit(benchmark::State& state) {
  const Snapshot& s = catalog();
  const std::vector<Host> hosts = {
      host("console.xdr.trendmicro.com"), host("ec2.us-east-1.amazonaws.com"),
      host("api.mgcp.trendmicro.com"), host("sts.eu-west-1.amazonaws.com")};
  run_decisions(state, s, hosts, s.identity_for(s.policy().find_role("manager"), std::nullopt),
                true);
}
BENCHMARK(BM_CatalogWildcardHit);

void BM_CatalogMiss(benchmark::State& state) {
  const Snapshot& s = catalog();
  run_decisions(state, s, catalog_misses(),
                s.identity_for(s.policy().find_role("agent"), Version::parse("20.0")), false);
}
BENCHMARK(BM_CatalogMiss);

// The proxy's real per-connection cost: normalise the name as it came, then decide.
void BM_CatalogNormalizeAndDecide(benchmark::State& state) {
  const Snapshot& s = catalog();
  const auto client = s.identity_for(s.policy().find_role("agent"), Version::parse("20.0"));
  const std::vector<std::string> raw = {"DS20.icrc.trendmicro.com", "evil.example.com.",
                                        "files.trendmicro.com", "ds2000-en-census.trendmicro.com"};
  std::size_t i = 0;
  Host h;
  for (auto _ : state) {
    normalize_host(raw[i], h);
    benchmark::DoNotOptimize(s.decide(h, 443, client));
    if (++i == raw.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CatalogNormalizeAndDecide);

void BM_Generated100kHit(benchmark::State& state) {
  const Snapshot& s = generated();
  std::vector<Host> hosts;
  for (int i = 1; i < 4000; i += 7) {
    if (i % 100 == 0) {
      hosts.push_back(host("api.eu.svc" + std::to_string(i) + ".example.com"));
    } else if (i % 10 == 0) {
      hosts.push_back(host("x.y.zone" + std::to_string(i) + ".example.net"));
    } else {
      hosts.push_back(
          host("host" + std::to_string(i) + ".tenant" + std::to_string(i % 997) + ".example.org"));
    }
  }
  run_decisions(state, s, hosts, s.identity_for(0, std::nullopt), true);
}
BENCHMARK(BM_Generated100kHit);

void BM_Generated100kMiss(benchmark::State& state) {
  const Snapshot& s = generated();
  std::vector<Host> hosts;
  for (int i = 0; i < 512; ++i) {
    hosts.push_back(
        host("nohost" + std::to_string(i) + ".tenant" + std::to_string(i % 997) + ".example.org"));
    hosts.push_back(host("a.zone" + std::to_string(i * 10 + 1) + ".example.net"));
  }
  run_decisions(state, s, hosts, s.identity_for(0, std::nullopt), false);
}
BENCHMARK(BM_Generated100kMiss);

// Loading (YAML parse and validation) and compiling (the matcher) 100,000 names.
void BM_Generated100kBuild(benchmark::State& state) {
  const std::string text = generated_policy_text();
  double load_ms = 0;
  double compile_ms = 0;
  std::size_t matcher_bytes = 0;
  std::size_t heap_bytes = 0;
  for (auto _ : state) {
    const auto heap_before = mallinfo2().uordblks;
    const auto t0 = std::chrono::steady_clock::now();
    auto loaded = load_config_text(text, "generated.yaml");
    const auto t1 = std::chrono::steady_clock::now();
    auto snapshot = Snapshot::build(std::move(loaded).value().policy).value();
    const auto t2 = std::chrono::steady_clock::now();
    load_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    compile_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
    matcher_bytes = snapshot->matcher().memory_bytes();
    heap_bytes = mallinfo2().uordblks - heap_before;
  }
  state.counters["load_ms"] = load_ms / static_cast<double>(state.iterations());
  state.counters["compile_ms"] = compile_ms / static_cast<double>(state.iterations());
  state.counters["matcher_MiB"] = static_cast<double>(matcher_bytes) / (1 << 20);
  state.counters["snapshot_heap_MiB"] = static_cast<double>(heap_bytes) / (1 << 20);
}
BENCHMARK(BM_Generated100kBuild)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
