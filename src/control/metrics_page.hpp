// What /metrics shows, gathered on the control thread, and its text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/control/reload.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/proxy/metrics.hpp>

#include "inventory_page.hpp"
#include "probe_page.hpp"

namespace chokepoint::control {

struct MetricsPage {
  proxy::Metrics traffic;  // every worker's, added up
  std::uint64_t buffer_bytes = 0;
  std::uint64_t buffer_limit = 0;  // 0: no budget (the family is left out)
  std::vector<audit::AuditLog::SinkReport> sinks;
  std::uint64_t audit_dropped = 0;
  net::DnsStats dns;
  std::optional<auth::AuthStats> auth;     // with a users file
  std::optional<InventoryPage> inventory;  // with an inventory section
  std::optional<ProbePage> probe;          // with --probe-interval
  const RunningPolicy* policy = nullptr;
  bool ready = true;
};

// The Prometheus text of every family, in the order of metric_families.hpp.
std::string render(const MetricsPage& page);

}  // namespace chokepoint::control
