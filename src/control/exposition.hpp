// Prometheus text exposition (format 0.0.4) of the families in
// metric_families.hpp: a HELP and a TYPE line per family, then its samples.
// Which call fits which family is checked at compile time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/proxy/metrics.hpp>

#include "metric_families.hpp"

namespace chokepoint::control {

// `value` quoted and escaped as a label value.
std::string prometheus_label(std::string_view value);

class Exposition {
 public:
  // A family without labels: one sample.
  template <Family F>
  void sample(std::uint64_t value) {
    static_assert(info(F).type != MetricType::Histogram && info(F).labels.empty());
    header(info(F));
    out_ += std::string(info(F).name) + " " + std::to_string(value) + "\n";
  }
  // A counter with labels: one sample per key, whose label values are
  // joined by '\x1f' in the order of the family's label names.
  template <Family F>
  void by_label(const std::map<std::string, std::uint64_t>& samples) {
    static_assert(info(F).type == MetricType::Counter && !info(F).labels.empty());
    labeled(info(F), samples);
  }
  // A gauge with labels: one sample per key, keyed as by_label's.
  template <Family F>
  void gauge_by_label(const std::map<std::string, std::int64_t>& samples) {
    static_assert(info(F).type == MetricType::Gauge && !info(F).labels.empty());
    header(info(F));
    const auto names = label_names(info(F));
    for (const auto& [key, value] : samples)
      labeled_sample(info(F), names, key, std::to_string(value));
  }
  template <Family F>
  void histogram(const proxy::Histogram& h) {
    static_assert(info(F).type == MetricType::Histogram);
    write_histogram(info(F), h);
  }

  std::string take() { return std::move(out_); }

 private:
  void header(const FamilyInfo& family);
  void labeled(const FamilyInfo& family, const std::map<std::string, std::uint64_t>& samples);
  static std::vector<std::string> label_names(const FamilyInfo& family);
  // One line: the family's name, the label set of `key`, the value.
  void labeled_sample(const FamilyInfo& family, const std::vector<std::string>& names,
                      std::string_view key, std::string_view value);
  void write_histogram(const FamilyInfo& family, const proxy::Histogram& h);

  std::string out_;
};

}  // namespace chokepoint::control
