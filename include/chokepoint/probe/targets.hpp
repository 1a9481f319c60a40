// What `chokepoint probe` tests (DESIGN.md, "Probing the path"): every
// concrete destination a role (and version) may reach, each as the proxy
// would decide it. Pure: no I/O, no Asio.
//
// A destination is concrete when it names one host and one port: an exact
// name or an address (a /32 or /128), on a port or a small list of them.
// A wildcard, a regex, an address range or a wide port range names no one
// place to go, so it is listed as not probed, with the reason.
//
// Each concrete (host, port) is put to Snapshot::decide() as a client of
// the role would put it (a TLS port as a tunnel, without a path; a plain
// port with the destination's path), and only what that lets out is
// probed, under the rule that decided it: a more specific deny leaves it
// out, exactly as the proxy would refuse it (a path restricts plain HTTP
// only: a tunnel to a name given with a path is let out, so it is probed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::probe {

// Port ranges up to this many ports are probed port by port; wider ones
// (a database's 11000-11999) are not probed.
inline constexpr int kMaxPortsPerRange = 8;

// Ports Deep Security speaks TLS on: HTTPS (443), the Manager's GUI, API
// and heartbeat (4119, 4120), relays (4122), an agent's own port (4118) and
// a Smart Protection Server's HTTPS web reputation (5275). Any other port is
// probed up to the TCP connect only: 80 and 5274 carry plain HTTP, and a
// database port speaks its own protocol before any TLS.
bool is_tls_port(std::uint16_t port);

struct Target {
  // The destination: a host name or an IP literal, and a port; for one not
  // probed, `host` is the pattern as written and `ports` the ports.
  Host host;
  std::uint16_t port = 0;
  std::string ports;  // "443", or "11000-11999" for a range not probed
  bool tls = false;
  // The rule that lets it out (the deciding one), its service and the
  // version group of the destination ("20.0+"; empty: every version).
  const policy::Rule* rule = nullptr;
  std::string versions;
  // Not empty: why it cannot be probed (then host.name is the pattern).
  std::string not_probed;

  std::string_view rule_id() const { return rule ? std::string_view(rule->id) : ""; }
  std::string_view service() const { return rule ? std::string_view(rule->service) : ""; }
};

// What an operator sees break when this target fails: the rule's service
// and, for a destination of some versions only, who uses it
// ("Smart Protection Network: Smart Scan Service (agents 20.0+)").
std::string what_breaks(const Target& target);

// Every destination `client` may reach under `snapshot`, in policy order,
// each (host, port) once; concrete ones to probe and the rest with the
// reason they are not.
std::vector<Target> targets(const policy::Snapshot& snapshot, const policy::ClientIdentity& client);

}  // namespace chokepoint::probe
