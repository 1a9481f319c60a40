// GET /probe: what the background probes (--probe-interval) found last, per
// destination, as one JSON object; the same values feed the status page's
// Reachability section and chokepoint_destination_up.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <chokepoint/probe/watcher.hpp>

namespace chokepoint::control {

struct ProbePage {
  bool enabled = false;  // --probe-interval given
  probe::WatchView view;
  std::chrono::system_clock::time_point now;
};

// {"enabled", "interval_ms", "rounds", "destinations", "probed", "failing",
// "last_probe", "results": [{"host", "port", "tls", "service",
// "rule", "role", "versions", "outcome", "up", "detail", "addresses",
// "upstream", "upstream_proxy", "dns_ms", "connect_ms", "tls_ms", "subject",
// "issuer", "probed_at", "since", "changes"}, ...]}, failures first, and a
// newline.
std::string render_probe(const ProbePage& page);

// chokepoint_destination_up's samples: 1 reachable, 0 not, keyed
// service '\x1f' host '\x1f' port (exposition.hpp's by_label keys).
std::map<std::string, std::int64_t> destination_up(const probe::WatchView& view);

// Failures first, then by service, host and port: what the page lists.
std::vector<probe::Watched> in_page_order(const probe::WatchView& view);

}  // namespace chokepoint::control
