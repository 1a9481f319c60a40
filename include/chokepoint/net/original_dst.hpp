// Where a redirected connection was going (transparent mode).
//
// After an nftables/iptables REDIRECT or DNAT, the kernel's connection
// tracking remembers the original destination; SO_ORIGINAL_DST (IPv4) and
// IP6T_SO_ORIGINAL_DST (IPv6) read it back. With TPROXY nothing is rewritten:
// the accepted socket's own local address is the original destination.
//
// A connection that was not redirected at all reports the listener's own
// address: callers must treat that as "not redirected" and refuse it, or the
// proxy would dial itself (Envoy original_dst.cc makes the same point).
#pragma once

#include <optional>

#include <chokepoint/core/asio.hpp>

namespace chokepoint::net {

// Redirect: nftables/iptables REDIRECT or DNAT; Tproxy: TPROXY; None: no
// interception at all (the SNI listener of DNS-steered deployments).
enum class Interception : std::uint8_t { Redirect, Tproxy, None };

// The original destination of `socket`, or nullopt with `ec` set.
std::optional<tcp::endpoint> original_destination(tcp::socket& socket, Interception how,
                                                  error_code& ec);

// Marks an open, not yet bound, listening socket for TPROXY (IP_TRANSPARENT
// or IPV6_TRANSPARENT; needs CAP_NET_ADMIN).
void set_transparent(tcp::acceptor& acceptor, bool v6, error_code& ec);

}  // namespace chokepoint::net
