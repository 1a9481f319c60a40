// What the proxy runs with: the process settings, resolved (config/: the
// one table of settings, with their defaults; the config file's
// `settings:`, then the flags), and the few numbers that are not settings.
#pragma once

#include <chrono>
#include <cstddef>
#include <utility>

#include <chokepoint/config/settings.hpp>
#include <chokepoint/core/client_network.hpp>

namespace chokepoint::proxy {

using std::chrono::milliseconds;

struct ProxyOptions : config::Settings {
  ProxyOptions() = default;
  explicit ProxyOptions(config::Settings settings) : config::Settings(std::move(settings)) {}

  ClientPrefixes client_prefixes() const { return {client_prefix_v4, client_prefix_v6}; }

  // Fixed by design, not settings.
  milliseconds upstream_keepalive{30'000};   // idle pooled upstream connections (plain HTTP)
  std::size_t max_header_bytes = 16 * 1024;  // a request head beyond: 431
  // Derived from the descriptor limit at start-up (descriptor_budget.hpp).
  std::size_t idle_pipes_per_thread = 64;
};

}  // namespace chokepoint::proxy
