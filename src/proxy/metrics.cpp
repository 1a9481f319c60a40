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
  // Keys are built in a reused buffer: a connection costs no allocation
  // here once its label set has been seen.
  const auto count = [this](std::map<std::string, std::uint64_t>& counters) {
    auto it = counters.find(key_);
    if (it == counters.end()) it = counters.emplace(key_, 0).first;
    ++it->second;
  };
  key_.assign(audit::to_string(r.event));
  count(records);
  if (r.decision != audit::Decision::None && r.event != audit::Event::Close) {
    key_.assign(audit::to_string(r.decision)).append(1, '\x1f').append(r.role).append(1, '\x1f');
    key_.append(r.rule).append(1, '\x1f').append(r.service);
    count(decisions);
  }
  if (r.event == audit::Event::Deny || r.event == audit::Event::Error) {
    key_.assign(audit::to_string(r.reason));
    count(refusals);
  }
  if (r.event == audit::Event::Close) {
    bytes_up += r.bytes_up;
    bytes_down += r.bytes_down;
    auto it = service_bytes.find(r.service);
    if (it == service_bytes.end())
      it = service_bytes.emplace(r.service, std::array<std::uint64_t, 2>{}).first;
    it->second[0] += r.bytes_up;
    it->second[1] += r.bytes_down;
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
  for (const auto& [k, v] : o.accept_failures)
    accept_failures[k] += v;
  bytes_up += o.bytes_up;
  bytes_down += o.bytes_down;
  for (const auto& [k, v] : o.service_bytes) {
    service_bytes[k][0] += v[0];
    service_bytes[k][1] += v[1];
  }
  health_checks += o.health_checks;
  dns.add(o.dns);
  connect.add(o.connect);
  open_tunnels += o.open_tunnels;
  handshakes += o.handshakes;
  connections += o.connections;
}

}  // namespace chokepoint::proxy
