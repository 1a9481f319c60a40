// Private to the proxy module: an allowed exchange's upstream (DESIGN.md,
// "Data flow": resolve (cache) and vet addresses, then dial, directly or
// through a parent proxy). The one place that chooses between the two, and
// returns what happened as a value: the session notes it in the record
// (note_upstream) and answers the client.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/cancellation.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/core/upstream_proxy.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::proxy {

struct ProxyOptions;

struct Dialled {
  std::optional<tcp::socket> socket;  // connected, when failure is None
  audit::Reason failure = audit::Reason::None;
  std::string detail;
  std::string upstream;  // "ip:port" of the address that answered
  // Direct: the vetted addresses the name resolved to, in attempt order
  // (moved out of the plan, no copy); `chokepoint probe` reports them.
  std::vector<IpAddress> addresses;
  std::int64_t dns_ms = -1;           // when a name was resolved (0 on a hit)
  std::optional<net::DnsServed> dns;  // how, when a name was resolved
  std::int64_t connect_ms = -1;       // when a connection was tried (and the parent asked)
  // Through a parent proxy: which one, what it answered our CONNECT (0:
  // not asked), and what the destination sent right after that answer
  // (parent_proxy.hpp), for the client ahead of the relay.
  std::string upstream_proxy;
  int upstream_proxy_status = 0;
  std::string early;
};

// Where the exchange goes, and for whom.
struct UpstreamRequest {
  const Host& host;
  std::uint16_t port;
  const policy::Snapshot& snapshot;
  const policy::ClientIdentity& identity;
  // The parent the rule sends it through (parent_for()); null: direct.
  const UpstreamProxy* parent = nullptr;
  // Direct, under `original_destination: require-match`: the original
  // destination the name must resolve to (a name that does not is refused
  // before any connect). The parent resolves the name, so not through one.
  const tcp::endpoint* must_resolve_to = nullptr;
  // Through a parent: a tunnel asks it (CONNECT host:port); a plain HTTP
  // request goes to it as it is, so only the connection is made here.
  bool tunnel = true;
};

// Direct: resolves the name once, keeps the addresses the proxy may dial
// (public ones, and special ones a CIDR rule lets this client reach), and
// connects to exactly those. Through a parent: an IP-literal destination is
// vetted as always, then the parent (never vetted: the operator named it)
// is dialed and, for a tunnel, asked. The lookup counts against the
// requester's share; its cancellation ends any wait at once (Shutdown).
asio::awaitable<Dialled> connect_upstream(net::Dialer& dialer, const ProxyOptions& options,
                                          const UpstreamRequest& request, Requester requester);

// The record's reason for a failed connect or plan: the one mapping from
// what the resolver and the dialer said to what the client is told.
audit::Reason dial_failure(net::DialError error);

// The dial's facts in the exchange's record: the lookup, the connect, the
// address that answered, the parent and its answer.
void note_upstream(audit::Record& record, const Dialled& dialled);

}  // namespace chokepoint::proxy
