// Who counts as one client for every per-client limit (rate, connections,
// pending heads, the share of name lookups and password checks, the refusal
// summaries): an IPv4 address, but an IPv6 client's whole /64, because one
// host is routinely given a /64 and may use any address in it (RFC 4941
// temporary addresses, or an attacker rotating through them). Both prefix
// lengths are settings (--client-prefix-v4, --client-prefix-v6).
#pragma once

#include <string>

#include <chokepoint/core/ip.hpp>

namespace chokepoint {

struct ClientPrefixes {
  int v4 = 32;
  int v6 = 64;
};

// The network `address` belongs to (a v4-mapped address counts as IPv4).
Cidr client_network(const IpAddress& address, const ClientPrefixes& prefixes);

// The same network as a compact key for hash tables: a tag byte, the
// prefix length, and the network's bytes. Two addresses have the same key
// exactly when they are one client; a key never equals another kind of key
// that starts with a different tag (a user's, a rule's).
std::string client_key(const IpAddress& address, const ClientPrefixes& prefixes);

}  // namespace chokepoint
