#include <chokepoint/proxy/metrics.hpp>

namespace chokepoint::proxy {

void Histogram::observe(std::int64_t ms) {
  if (ms < 0) return;
  std::size_t bucket = 0;
  while (bucket < kLatencyBucketsMs.size() && static_cast<double>(ms) > kLatencyBucketsMs[bucket])
    ++bucket;
  ++counts[bucket];
  ++count;
  sum_seconds += static_cast<double>(ms) / 1000;
}

void Histogram::add(const Histogram& other) {
  for (std::size_t i = 0; i < counts.size(); ++i)
    counts[i] += other.counts[i];
  count += other.count;
  sum_seconds += other.sum_seconds;
}

void Metrics::observe(const audit::Record& r) {
  const std::string event(audit::to_string(r.event));
  ++records[event];
  if (!r.decision.empty() && r.event != audit::Event::Close) {
    // Built in a reused buffer: a connection costs no allocation here once
    // its label set has been seen.
    key_.assign(r.decision).append(1, '\x1f').append(r.role).append(1, '\x1f');
    key_.append(r.rule).append(1, '\x1f').append(r.service);
    auto it = decisions.find(key_);
    if (it == decisions.end()) it = decisions.emplace(key_, 0).first;
    ++it->second;
  }
  if (r.event == audit::Event::Deny || r.event == audit::Event::Error) ++refusals[r.reason];
  if (r.event == audit::Event::Close) {
    bytes_up += r.bytes_up;
    bytes_down += r.bytes_down;
  }
  if (r.event != audit::Event::Close) {
    dns.observe(r.dns_ms);
    connect.observe(r.connect_ms);
  }
}

void Metrics::add(const Metrics& o) {
  for (const auto& [k, v] : o.decisions)
    decisions[k] += v;
  for (const auto& [k, v] : o.records)
    records[k] += v;
  for (const auto& [k, v] : o.refusals)
    refusals[k] += v;
  bytes_up += o.bytes_up;
  bytes_down += o.bytes_down;
  dns.add(o.dns);
  connect.add(o.connect);
  open_tunnels += o.open_tunnels;
  handshakes += o.handshakes;
}

}  // namespace chokepoint::proxy
