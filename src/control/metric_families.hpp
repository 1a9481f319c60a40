// Every metric family of /metrics, declared once (Envoy's stats macros):
//   X(name, Type, "label,names", "help")
// The exposition writes a family only through its row, so a family's name,
// type, labels and help cannot drift apart, and README.md's list is checked
// against this table by a unit test. Rows are in the order /metrics shows
// them; a family's full name is "chokepoint_" + name.
#pragma once

#include <cstddef>
#include <string_view>

namespace chokepoint::control {

// clang-format off
#define CHOKEPOINT_METRIC_FAMILIES(X) \
  X(decisions_total, Counter, "decision,role,rule,service", \
    "Policy decisions by outcome, role, rule and service.") \
  X(audit_events_total, Counter, "event", "Audit records by event.") \
  X(refusals_total, Counter, "reason", \
    "Denied or failed connections by reason (policy, parse failures, timeouts, upstream errors).") \
  X(bytes_total, Counter, "direction", "Bytes relayed, by direction (up: client to destination).") \
  X(accept_failures_total, Counter, "reason", \
    "Accepts the kernel refused (emfile, enfile, enobufs, enomem): clients left waiting.") \
  X(proxy_protocol_health_checks_total, Counter, "", \
    "Balancer connections whose PROXY header was LOCAL or v1 UNKNOWN (health checks): closed without a decision.") \
  X(open_tunnels, Gauge, "", "Tunnels open now: relaying, or waiting for the client's first bytes.") \
  X(handshakes, Gauge, "", "Connections reading a request head or ClientHello, or dialing.") \
  X(buffer_bytes, Gauge, "", "Relay buffer memory held by tunnels (pipes and copy buffers).") \
  X(buffer_limit_bytes, Gauge, "", "The relay buffer budget (--max-buffer-memory).") \
  X(dns_seconds, Histogram, "", "Time to resolve a destination name.") \
  X(connect_seconds, Histogram, "", "Time to connect to the destination.") \
  X(dns_lookups_total, Counter, "", "Destination names looked up in the DNS cache.") \
  X(dns_lookup_outcomes_total, Counter, "outcome", \
    "DNS lookups by how they were served (hit, miss, coalesced, stale) or not (refused, client_share, gave_up).") \
  X(dns_queries_total, Counter, "", "DNS questions sent to servers (A and AAAA count one each).") \
  X(dns_resolutions_total, Counter, "result", \
    "DNS flights by how they ended (answer, not_found, no_data, failed, timeout).") \
  X(dns_prefetches_total, Counter, "", "DNS flights started to refresh a popular name before it expired.") \
  X(dns_evictions_total, Counter, "", "Cached DNS answers evicted for room (least recently used).") \
  X(dns_cached_names, Gauge, "", "Names held in the DNS cache.") \
  X(dns_in_flight, Gauge, "", "Names being resolved now.") \
  X(dns_query_seconds, Histogram, "", "Time DNS servers took to answer (real queries only).") \
  X(auth_hashes_total, Counter, "", "Password hashes computed (with a users file).") \
  X(auth_unchecked_total, Counter, "reason", \
    "Logins refused without a password check: the client or the user name waits after failed logins (client_backoff, user_backoff), or the checks are busy (queue_full, client_share).") \
  X(auth_dropped_total, Counter, "", \
    "Queued password checks dropped uncomputed: the client hung up, the wait was too long, or the proxy stopped.") \
  X(auth_queue, Gauge, "", "Password checks waiting for the hashing threads.") \
  X(audit_records_written_total, Counter, "sink", "Audit records delivered, by sink.") \
  X(audit_records_lost_total, Counter, "sink", "Audit records a sink could not deliver.") \
  X(audit_records_dropped_total, Counter, "", "Audit records refused by a full queue.") \
  X(inventory_refreshes_total, Counter, "", \
    "Good refreshes of the manager's computer list (with an inventory section).") \
  X(inventory_refresh_failures_total, Counter, "error", \
    "Refreshes of the manager's computer list that failed, by why (connect, refused, rate_limited, status, malformed, too_large).") \
  X(inventory_applies, Gauge, "", "1 while an inventory decides clients' roles; 0 when none applies (never fetched, or stale).") \
  X(inventory_computers, Gauge, "", "Computers in the inventory in use.") \
  X(inventory_addresses, Gauge, "", "Client addresses the inventory in use maps to a computer.") \
  X(inventory_ambiguous_addresses, Gauge, "", "Addresses two or more computers claim (mapped to none).") \
  X(inventory_age_seconds, Gauge, "", "Seconds since the inventory in use was fetched.") \
  X(destination_up, Gauge, "service,host,port", \
    "1 when the last background probe of a destination of the running policy reached it (--probe-interval), 0 when it did not.") \
  X(probe_last_timestamp_seconds, Gauge, "", "When a background probe last finished (--probe-interval).") \
  X(policy_reloads_total, Counter, "", "Policy reloads that took effect.") \
  X(policy_reload_failures_total, Counter, "", "Policy reloads refused (the old policy stayed).") \
  X(policy_rules, Gauge, "", "Rules in the running policy.") \
  X(policy_loaded_timestamp_seconds, Gauge, "", "When the running policy was loaded.") \
  X(ready, Gauge, "", \
    "1 while accepting connections; 0 while draining, while accepts fail, or (failing closed) while the audit log cannot write.")
// clang-format on

enum class MetricType { Counter, Gauge, Histogram };

enum class Family : std::size_t {
#define CHOKEPOINT_METRIC_ID(name, ...) name,
  CHOKEPOINT_METRIC_FAMILIES(CHOKEPOINT_METRIC_ID)
#undef CHOKEPOINT_METRIC_ID
};

struct FamilyInfo {
  std::string_view name;  // with the chokepoint_ prefix
  MetricType type;
  std::string_view labels;  // comma-separated; empty: none
  std::string_view help;
};

inline constexpr FamilyInfo kFamilies[] = {
#define CHOKEPOINT_METRIC_INFO(name, type, labels, help) \
  FamilyInfo{"chokepoint_" #name, MetricType::type, labels, help},
    CHOKEPOINT_METRIC_FAMILIES(CHOKEPOINT_METRIC_INFO)
#undef CHOKEPOINT_METRIC_INFO
};

constexpr const FamilyInfo& info(Family family) {
  return kFamilies[static_cast<std::size_t>(family)];
}

}  // namespace chokepoint::control
