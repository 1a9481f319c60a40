#include "metrics_page.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "exposition.hpp"

namespace chokepoint::control {
namespace {

constexpr bool same_buckets() {
  for (std::size_t i = 0; i < proxy::kLatencyBucketsMs.size(); ++i) {
    if (proxy::kLatencyBucketsMs[i] != static_cast<double>(net::kDnsLatencyBucketsMs[i]))
      return false;
  }
  return proxy::kLatencyBucketsMs.size() == net::kDnsLatencyBucketsMs.size();
}
static_assert(same_buckets(), "the DNS cache counts query latency in the metrics' buckets");

proxy::Histogram query_latency(const net::DnsStats& d) {
  proxy::Histogram h;
  for (std::size_t i = 0; i < h.counts.size(); ++i)
    h.counts[i] = d.latency[i];
  h.count = d.latency_count;
  h.sum_seconds = static_cast<double>(d.latency_sum_ms) / 1000;
  return h;
}

}  // namespace

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
  const net::DnsStats& d = page.dns;
  out.sample<Family::dns_lookups_total>(d.lookups);
  out.by_label<Family::dns_lookup_outcomes_total>({{"hit", d.hits},
                                                   {"miss", d.misses},
                                                   {"coalesced", d.coalesced},
                                                   {"stale", d.stale},
                                                   {"refused", d.refused - d.refused_client},
                                                   {"client_share", d.refused_client},
                                                   {"gave_up", d.gave_up}});
  out.sample<Family::dns_queries_total>(d.queries);
  out.by_label<Family::dns_resolutions_total>({{"answer", d.answers},
                                               {"not_found", d.not_found},
                                               {"no_data", d.no_data},
                                               {"failed", d.failed},
                                               {"timeout", d.timeouts}});
  out.sample<Family::dns_prefetches_total>(d.prefetches);
  out.sample<Family::dns_evictions_total>(d.evictions);
  out.sample<Family::dns_cached_names>(d.cached);
  out.sample<Family::dns_in_flight>(d.in_flight);
  out.histogram<Family::dns_query_seconds>(query_latency(d));
  if (page.auth) {
    const auth::AuthStats& a = *page.auth;
    out.sample<Family::auth_hashes_total>(a.hashing.done);
    out.by_label<Family::auth_unchecked_total>({{"client_backoff", a.throttled_client},
                                                {"user_backoff", a.throttled_user},
                                                {"queue_full", a.hashing.busy},
                                                {"client_share", a.hashing.client_busy}});
    out.sample<Family::auth_dropped_total>(a.hashing.dropped);
    out.sample<Family::auth_queue>(a.hashing.queued);
  }
  std::map<std::string, std::uint64_t> written;
  std::map<std::string, std::uint64_t> lost;
  for (const auto& sink : page.sinks) {
    written[sink.name] = sink.stats.written;
    lost[sink.name] = sink.stats.lost;
  }
  out.by_label<Family::audit_records_written_total>(written);
  out.by_label<Family::audit_records_lost_total>(lost);
  out.sample<Family::audit_records_dropped_total>(page.audit_dropped);
  if (page.inventory) {
    const InventoryPage& inv = *page.inventory;
    out.sample<Family::inventory_refreshes_total>(inv.status.refreshes);
    // Every kind of failure, at 0 until it happens: rate() needs the series.
    std::map<std::string, std::uint64_t> failures = inv.status.failures;
    for (auto e = static_cast<int>(inventory::FetchError::Connect);
         e <= static_cast<int>(inventory::FetchError::TooLarge); ++e)
      failures.try_emplace(std::string(to_string(static_cast<inventory::FetchError>(e))), 0);
    out.by_label<Family::inventory_refresh_failures_total>(failures);
    out.sample<Family::inventory_applies>(inv.inventory ? 1 : 0);
    if (inv.inventory) {
      out.sample<Family::inventory_computers>(inv.inventory->computers());
      out.sample<Family::inventory_addresses>(inv.inventory->addresses());
      out.sample<Family::inventory_ambiguous_addresses>(inv.inventory->ambiguous().size());
      out.sample<Family::inventory_age_seconds>(
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, inventory_age_seconds(inv))));
    }
  }
  if (page.probe) {
    const probe::WatchView& v = page.probe->view;
    out.gauge_by_label<Family::destination_up>(destination_up(v));
    // No sample before the first probe: an alert on its age must not see 1970.
    if (v.last_probe != std::chrono::system_clock::time_point{}) {
      const auto at =
          std::chrono::duration_cast<std::chrono::seconds>(v.last_probe.time_since_epoch());
      out.sample<Family::probe_last_timestamp_seconds>(static_cast<std::uint64_t>(at.count()));
    }
  }
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
