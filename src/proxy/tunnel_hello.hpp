// Private to the proxy module: the checks a ClientHello must pass, shared by
// the listeners that see one. Inside an allowed CONNECT (or SOCKS) tunnel
// the client's first bytes are read before anything is relayed (DESIGN.md:
// domain fronting), and a transparent client's hello is checked the same
// way before its destination is decided.
#pragma once

#include <optional>
#include <string>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/tls/client_hello.hpp>

#include "client_connection.hpp"

namespace chokepoint::proxy {

struct ProxyOptions;

struct HelloRefusal {
  audit::Reason reason = audit::Reason::None;
  std::string detail;
};

// ECH offered while the policy's `tls.ech` is deny: the refusal, else nothing.
std::optional<HelloRefusal> ech_refusal(const tls::ClientHelloInfo& hello,
                                        const policy::Snapshot& snapshot);

struct TunnelHello {
  std::optional<HelloRefusal> refusal;
  std::string sni;  // the SNI, when a hello named one
  // The client sent a whole (or broken) hello, not just part of one: it can
  // read an alert.
  bool alert = false;
};

// Reads the tunnel's first bytes into `client.buffer` (which keeps them,
// for the upstream) until a ClientHello is complete, the client sends
// something that is not TLS, the server speaks first (then it is not a TLS
// client, and its banner must not wait), or the peek deadline; then checks
// the hello against `target`: an SNI naming another host must itself be
// allowed for that port. `server_spoke` is the session's flag that the
// wait on `upstream` sets; it must outlive the call as the session does.
asio::awaitable<TunnelHello> read_tunnel_hello(ClientConnection& client, tcp::socket& upstream,
                                               bool& server_spoke, const Host& target,
                                               std::uint16_t port, const policy::Snapshot& snapshot,
                                               const policy::ClientIdentity& identity,
                                               const ProxyOptions& options);

}  // namespace chokepoint::proxy
