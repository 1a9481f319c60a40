#include "metrics_page.hpp"

#include <chrono>
#include <map>

#include "exposition.hpp"

namespace chokepoint::control {

std::string render(const MetricsPage& page) {
  const proxy::Metrics& m = page.traffic;
  Exposition out;
  out.by_label<Family::decisions_total>(m.decisions);
  out.by_label<Family::audit_events_total>(m.records);
  out.by_label<Family::refusals_total>(m.refusals);
  out.by_label<Family::bytes_total>({{"up", m.bytes_up}, {"down", m.bytes_down}});
  out.by_label<Family::accept_failures_total>(m.accept_failures);
  out.sample<Family::proxy_protocol_health_checks_total>(m.health_checks);
  out.sample<Family::open_tunnels>(m.open_tunnels);
  out.sample<Family::handshakes>(m.handshakes);
  out.sample<Family::buffer_bytes>(page.buffer_bytes);
  if (page.buffer_limit != 0) out.sample<Family::buffer_limit_bytes>(page.buffer_limit);
  out.histogram<Family::dns_seconds>(m.dns);
  out.histogram<Family::connect_seconds>(m.connect);
  std::map<std::string, std::uint64_t> written;
  std::map<std::string, std::uint64_t> lost;
  for (const auto& sink : page.sinks) {
    written[sink.name] = sink.stats.written;
    lost[sink.name] = sink.stats.lost;
  }
  out.by_label<Family::audit_records_written_total>(written);
  out.by_label<Family::audit_records_lost_total>(lost);
  out.sample<Family::audit_records_dropped_total>(page.audit_dropped);
  const RunningPolicy& policy = *page.policy;
  out.sample<Family::policy_reloads_total>(policy.reloads);
  out.sample<Family::policy_reload_failures_total>(policy.reload_failures);
  out.sample<Family::policy_rules>(policy.rules);
  const auto loaded =
      std::chrono::duration_cast<std::chrono::seconds>(policy.loaded_at.time_since_epoch());
  out.sample<Family::policy_loaded_timestamp_seconds>(static_cast<std::uint64_t>(loaded.count()));
  out.sample<Family::ready>(page.ready ? 1 : 0);
  return out.take();
}

}  // namespace chokepoint::control
