#include "exposition.hpp"

#include <sstream>
#include <vector>

namespace chokepoint::control {
namespace {

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

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

void Exposition::header(const FamilyInfo& family) {
  const std::string name(family.name);
  out_ += "# HELP " + name + " " + std::string(family.help) + "\n# TYPE " + name + " " +
          std::string(type_name(family.type)) + "\n";
}

std::vector<std::string> Exposition::label_names(const FamilyInfo& family) {
  std::vector<std::string> names;
  std::stringstream split{std::string(family.labels)};
  for (std::string n; std::getline(split, n, ',');)
    names.push_back(n);
  return names;
}

void Exposition::labeled_sample(const FamilyInfo& family, const std::vector<std::string>& names,
                                std::string_view key, std::string_view value) {
  out_ += std::string(family.name) + "{";
  std::size_t start = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto end = i + 1 < names.size() ? key.find('\x1f', start) : std::string_view::npos;
    if (i) out_ += ',';
    out_ += names[i] + "=" + prometheus_label(key.substr(start, end - start));
    start = end == std::string_view::npos ? key.size() : end + 1;
  }
  out_ += "} ";
  out_ += value;
  out_ += '\n';
}

void Exposition::labeled(const FamilyInfo& family,
                         const std::map<std::string, std::uint64_t>& samples) {
  header(family);
  const auto names = label_names(family);
  for (const auto& [key, value] : samples)
    labeled_sample(family, names, key, std::to_string(value));
}

void Exposition::write_histogram(const FamilyInfo& family, const proxy::Histogram& h) {
  header(family);
  const std::string name(family.name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < proxy::kLatencyBucketsMs.size(); ++i) {
    cumulative += h.counts[i];
    std::ostringstream le;
    le << proxy::kLatencyBucketsMs[i] / 1000;
    out_ += name + "_bucket{le=\"" + le.str() + "\"} " + std::to_string(cumulative) + "\n";
  }
  out_ += name + "_bucket{le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  std::ostringstream sum;
  sum << h.sum_seconds;
  out_ += name + "_sum " + sum.str() + "\n" + name + "_count " + std::to_string(h.count) + "\n";
}

}  // namespace chokepoint::control
