#include <sstream>

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
  dns.add(o.dns);
  connect.add(o.connect);
  open_tunnels += o.open_tunnels;
  handshakes += o.handshakes;
}

std::string prometheus_label(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + '"';
}

void write_counter(std::string& out, const std::string& name, const std::string& help,
                   const std::map<std::string, std::uint64_t>& by_label,
                   const std::string& label_names) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
  std::vector<std::string> names;
  std::stringstream split(label_names);
  for (std::string n; std::getline(split, n, ',');)
    names.push_back(n);
  for (const auto& [key, value] : by_label) {
    out += name + "{";
    std::size_t start = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto end = i + 1 < names.size() ? key.find('\x1f', start) : std::string::npos;
      if (i) out += ',';
      out += names[i] + "=" + prometheus_label(std::string_view(key).substr(start, end - start));
      start = end == std::string::npos ? key.size() : end + 1;
    }
    out += "} " + std::to_string(value) + "\n";
  }
}

void write_histogram(std::string& out, const std::string& name, const std::string& help,
                     const Histogram& h) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBucketsMs.size(); ++i) {
    cumulative += h.counts[i];
    std::ostringstream le;
    le << kLatencyBucketsMs[i] / 1000;
    out += name + "_bucket{le=\"" + le.str() + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  std::ostringstream sum;
  sum << h.sum_seconds;
  out += name + "_sum " + sum.str() + "\n" + name + "_count " + std::to_string(h.count) + "\n";
}

}  // namespace chokepoint::proxy
