// Counters for /metrics, derived from the audit records themselves (each
// Worker::emit feeds its thread's Metrics), so a metric can never disagree
// with the log. Each I/O thread owns its Metrics; the admin endpoint asks
// every thread for a copy and adds them up (control/ writes the text).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include <chokepoint/audit/record.hpp>

namespace chokepoint::proxy {

// Latency buckets in milliseconds (upper bounds; +Inf is implied).
inline constexpr std::array<double, 12> kLatencyBucketsMs = {1,   2,   5,   10,   25,   50,
                                                             100, 250, 500, 1000, 2500, 5000};

struct Histogram {
  std::array<std::uint64_t, kLatencyBucketsMs.size() + 1> counts{};  // the last one is +Inf
  std::uint64_t count = 0;
  double sum_seconds = 0;

  void observe(std::int64_t ms);
  void add(const Histogram& other);
};

struct Metrics {
  // decision|role|rule|service -> decisions (open, deny and error records that carry a decision)
  std::map<std::string, std::uint64_t> decisions;
  std::map<std::string, std::uint64_t> records;          // event -> records
  std::map<std::string, std::uint64_t> refusals;         // reason of deny and error records
  std::map<std::string, std::uint64_t> accept_failures;  // errno name (emfile, ...) -> failures
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  // The rule's service (as decisions name it; "" for none) -> bytes of
  // closed exchanges, up and down (the status page).
  std::map<std::string, std::array<std::uint64_t, 2>> service_bytes;
  // Balancers' LOCAL connections (health checks): they leave no record.
  std::uint64_t health_checks = 0;
  Histogram dns;
  Histogram connect;
  // Gauges, filled in when a copy is taken. A tunnel waiting for its
  // client's ClientHello is both open and in its handshake; `connections`
  // counts every live connection once.
  std::uint64_t open_tunnels = 0;
  std::uint64_t handshakes = 0;
  std::uint64_t connections = 0;

  void observe(const audit::Record& record);
  void add(const Metrics& other);

 private:
  std::string key_;  // scratch for observe()
};

}  // namespace chokepoint::proxy
