// Private to the proxy module: the stage between accept and everything else
// (DESIGN.md, "Data flow": accept -> PROXY protocol header from a trusted
// balancer -> identify). Behind a load balancer the connection's peer is the
// balancer; the PROXY header (v1 or v2, proxy_protocol/header.hpp) it sends
// first names the client, and that client is who the session identifies,
// limits and records (the balancer becomes the record's `via`).
//
// Trust is by the peer's address alone (--proxy-protocol-from): a connection
// from there must begin with a header, within the head deadline; any other
// connection must not, because nobody chooses their own address. The first
// is read here, before the destination source runs; the second is checked
// on the bytes the destination source read anyway (no read of its own, so
// a client that waits for the server to speak first is not held up).
//
// What a header without a client address means: v2 LOCAL (HAProxy's `check
// send-proxy-v2`) and v1 UNKNOWN are the balancer's own connections, health
// checks, closed without a decision and counted; a v2 PROXY header for a
// UNIX, UDP or unspecified source names nobody the policy can judge, and is
// refused. (HAProxy's v1 checks send TCP4 with its own address: they are
// connections from the balancer, like any other.)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/core/ip.hpp>

#include "client_connection.hpp"

namespace chokepoint::proxy {

// Whether `peer` is a balancer whose connections begin with a PROXY header.
bool from_trusted_balancer(const std::vector<Cidr>& trusted, const IpAddress& peer);

struct ProxyHeader {
  enum class Outcome : std::uint8_t {
    Client,       // the header named `client`: go on as that client
    HealthCheck,  // LOCAL (or v1 UNKNOWN): close, count, no record
    Gone,         // the balancer connected and left without a byte (a TCP check)
    Refused,      // record `refusal` and close
  };
  Outcome outcome = Outcome::Gone;
  Endpoint client;  // Client: the address the header names (IPv4 unmapped)
  audit::Reason refusal = audit::Reason::None;
  std::string detail;
};

// Reads the header a trusted balancer's connection begins with, through
// `client`'s buffer, consuming exactly the header: the bytes after it (the
// client's own) stay in the buffer for the destination source. The whole
// header must arrive within `deadline`.
asio::awaitable<ProxyHeader> read_proxy_header(ClientConnection& client,
                                               std::chrono::milliseconds deadline);

// A connection whose own first bytes (client.first_bytes(): after a trusted
// balancer's header, if there was one) begin a PROXY header: the refusal's
// sentence. Nothing when they do not (or are too few to tell).
std::optional<std::string> forged_proxy_header(const ClientConnection& client);

}  // namespace chokepoint::proxy
