// Private to the proxy module: from a decided destination to a connected
// upstream socket (DESIGN.md, "Data flow": resolve and vet, dial). Returns
// what happened as a value; the session records it.
#pragma once

#include <optional>
#include <string>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::proxy {

class Worker;

struct Dialled {
  std::optional<tcp::socket> socket;  // connected, when failure is None
  audit::Reason failure = audit::Reason::None;
  std::string detail;
  std::string upstream;               // "ip:port" of the address that answered
  std::int64_t dns_ms = -1;           // when a name was resolved (0 on a hit)
  std::optional<net::DnsServed> dns;  // how, when a name was resolved
  std::int64_t connect_ms = -1;       // when a connection was tried
  // Through a parent proxy: what the destination sent right after the
  // parent's answer (parent_proxy.hpp), for the client ahead of the relay.
  std::string early;
};

// The record's reason for a failed connect or plan.
audit::Reason dial_failure(net::DialError error);

// Resolves `host` (once), keeps the addresses the proxy may dial (public
// ones, and special ones a CIDR rule of `snapshot` lets this client reach),
// and connects to exactly those. `must_resolve_to`: the original
// destination under `original_destination: require-match` (a name that
// does not resolve to it is refused before any connect), else null.
// The lookup counts against the requester's share; its cancellation ends
// the lookup or the connect race at once (Reason::Shutdown).
asio::awaitable<Dialled> dial(Worker& worker, const Host& host, std::uint16_t port,
                              const policy::Snapshot& snapshot,
                              const policy::ClientIdentity& identity,
                              const tcp::endpoint* must_resolve_to, Requester requester);

}  // namespace chokepoint::proxy
