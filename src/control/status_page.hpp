// The admin endpoint's status page (GET /): who uses the proxy right now
// (open tunnels), what it refused last, decisions and bytes per service,
// whether the destinations are reachable (with --probe-interval), the audit
// sinks' health, the policy and its reloads, and the DNS cache. One
// HTML page, gathered on the control thread and rendered here from plain
// values, so tests render it from values they chose.
//
// Read-only, no script: the page refreshes itself (meta refresh) and its
// tables are plain HTML. Every string on it may have come from a client (a
// Host header, an SNI, a user name, a detail quoting them): each one goes
// through html_escape, and the page sends a Content-Security-Policy that
// allows no script at all (admin.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/control/reload.hpp>
#include <chokepoint/core/html.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/proxy/metrics.hpp>
#include <chokepoint/proxy/worker.hpp>

#include "inventory_page.hpp"
#include "probe_page.hpp"

namespace chokepoint::control {

// The last reload, as the status page tells it.
struct LastReload {
  std::chrono::system_clock::time_point at{};  // epoch: none yet
  std::string why;                             // "SIGHUP", "POST /reload", "a config file changed"
  bool ok = false;
  std::string message;
};

struct StatusPage {
  std::chrono::system_clock::time_point now{};
  std::chrono::seconds refresh{5};
  bool ready = true;
  std::string not_ready;                           // why not, when not ready
  std::vector<proxy::Worker::OpenTunnel> tunnels;  // the first kShownTunnels
  std::size_t tunnels_open = 0;                    // all of them
  std::vector<audit::Record> refusals;             // newest first
  proxy::Metrics traffic;                          // every worker's, added up
  std::vector<audit::AuditLog::SinkReport> sinks;
  std::uint64_t audit_dropped = 0;
  bool audit_refuse = false;  // --audit-on-failure refuse
  bool audit_available = true;
  std::string audit_unavailable;
  const RunningPolicy* policy = nullptr;
  LastReload last_reload;
  net::DnsStats dns;
  std::vector<net::DnsCacheItem> dns_names;  // the most looked-up first, at most kShownNames
  std::optional<InventoryPage> inventory;    // with an inventory section
  std::optional<ProbePage> probe;            // with --probe-interval
};

inline constexpr std::size_t kShownTunnels = 200;
inline constexpr std::size_t kShownNames = 50;
// Reachability rows (failures first); /probe lists them all.
inline constexpr std::size_t kShownProbes = 100;

// The page, as one self-contained HTML document.
std::string render_html(const StatusPage& page);

}  // namespace chokepoint::control
