// What writing and reading an audit record costs, with the proxy's own code:
//   - writing: audit::append_json_line, what the audit thread runs for every
//     record of every connection (file and stdout sinks), and
//     audit::format_cef, what a CEF syslog sink runs per record;
//   - reading: tools::AuditLineParser, what `report` and `learn` run per line.
// The records are the synthetic day of audit_log_synth.hpp (opens, closes,
// denies and errors, as a site's agents, relays and Manager leave them),
// plus one record with every key set.
//
//   build/bench/bench_audit_record --benchmark_min_time=2
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <chokepoint/audit/siem_format.hpp>
#include <chokepoint/tools/audit_reader.hpp>

#include "audit_log_synth.hpp"

namespace {

using chokepoint::audit::Record;

const std::vector<Record>& day() {
  static const std::vector<Record> records = [] {
    std::vector<Record> out;
    chokepoint::bench::synthesize_records(
        8 << 20, 5, [&](const Record& r) { out.push_back(r); },
        [&] { return out.size() < 10'000; });
    return out;
  }();
  return records;
}

// A record with every key set: the writer's longest path.
Record every_key() {
  namespace audit = chokepoint::audit;
  Record r = day().front();
  r.event = audit::Event::Close;
  r.user = "relay01";
  r.sni = "ds20.icrc.trendmicro.com";
  r.http_host = "ds20.icrc.trendmicro.com:443";
  r.orig_dst = "203.0.113.9:443";
  r.upstream = "203.0.113.9:443";
  r.service = "Smart Protection Network: Smart Scan Service";
  r.dns = "hit";
  r.dns_ms = 0;
  r.connect_ms = 12;
  r.method = "CONNECT";
  r.path = "/";
  r.status = 200;
  r.relay = audit::RelayPath::Splice;
  r.end = audit::End::Eof;
  r.source = audit::Source::Client;
  r.socks_version = "5";
  r.socks_method = "username_password";
  r.socks_user_id = "agent";
  r.via = "10.0.0.2:40000";
  r.upstream_proxy = "proxy.corp.example:3128";
  r.upstream_proxy_status = 200;
  r.suppressed = 3;
  r.detail = "no rule allows this destination for role agent";
  return r;
}

void count(benchmark::State& state, std::size_t records, std::size_t bytes) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void BM_write_json_lines(benchmark::State& state) {
  const auto& records = day();
  std::string out;
  out.reserve(16 << 20);
  for (auto _ : state) {
    out.clear();
    for (const Record& r : records)
      chokepoint::audit::append_json_line(out, r);
    benchmark::DoNotOptimize(out.data());
  }
  count(state, records.size(), out.size());
}
BENCHMARK(BM_write_json_lines)->Unit(benchmark::kMicrosecond);

void BM_write_json_line_every_key(benchmark::State& state) {
  const Record r = every_key();
  std::string out;
  out.reserve(4096);
  for (auto _ : state) {
    out.clear();
    chokepoint::audit::append_json_line(out, r);
    benchmark::DoNotOptimize(out.data());
  }
  count(state, 1, out.size());
}
BENCHMARK(BM_write_json_line_every_key);

void BM_write_cef_lines(benchmark::State& state) {
  const auto& records = day();
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (const Record& r : records) {
      const std::string line = chokepoint::audit::format_cef(r, "0.1.0");
      bytes += line.size();
      benchmark::DoNotOptimize(line.data());
    }
  }
  count(state, records.size(), bytes);
}
BENCHMARK(BM_write_cef_lines)->Unit(benchmark::kMicrosecond);

void BM_read_lines(benchmark::State& state) {
  // The lines as AuditFile hands them over: each followed by readable padding.
  std::string text;
  std::vector<std::pair<std::size_t, std::size_t>> lines;
  for (const Record& r : day()) {
    const std::size_t start = text.size();
    chokepoint::audit::append_json_line(text, r);
    lines.emplace_back(start, text.size() - 1 - start);
  }
  text.append(chokepoint::tools::kLinePadding, ' ');
  chokepoint::tools::AuditLineParser parser;
  chokepoint::tools::AuditRecord record;
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (const auto& [start, size] : lines) {
      if (parser.parse(text.data() + start, size, text.size() - start, record) ==
          chokepoint::tools::LineError::None)
        sum += record.bytes_up + record.host.size() + record.reason.size();
    }
    benchmark::DoNotOptimize(sum);
  }
  count(state, lines.size(), text.size() - chokepoint::tools::kLinePadding);
}
BENCHMARK(BM_read_lines)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
