// Sorting resolved addresses into what a proxy may dial.
//
// DESIGN.md: addresses in private, loopback, link-local, CGNAT, multicast or
// cloud-metadata ranges, and the IPv6 forms that embed them (v4-mapped,
// v4-compatible, NAT64, 6to4, Teredo), are refused unless a rule allows that
// range by CIDR. Embedded IPv4 addresses are classified as the IPv4 address
// they carry: "64:ff9b::a9fe:a9fe" is the metadata service, not a public
// IPv6 address (an SSRF bypass otherwise).
#pragma once

#include <cstdint>
#include <string_view>

#include <chokepoint/core/ip.hpp>

namespace chokepoint::net {

enum class AddressClass : std::uint8_t {
  Public,
  Unspecified,  // 0.0.0.0/8, ::
  Loopback,     // 127.0.0.0/8, ::1
  Private,      // RFC 1918, fc00::/7 (unique local)
  LinkLocal,    // 169.254.0.0/16, fe80::/10
  Cgnat,        // 100.64.0.0/10 (RFC 6598)
  Multicast,    // 224.0.0.0/4, ff00::/8
  Metadata,     // 169.254.169.254, fd00:ec2::254, 100.100.100.200 (cloud instance metadata)
  Reserved,     // 240.0.0.0/4, broadcast, documentation, benchmarking, IETF protocol assignments
};

std::string_view to_string(AddressClass c);

// The class of `address`, looking through every IPv6 form that embeds IPv4.
AddressClass classify(const IpAddress& address);

// True for Public.
inline bool is_public(AddressClass c) {
  return c == AddressClass::Public;
}

// The IPv4 address an IPv6 address embeds (v4-mapped, v4-compatible, NAT64
// well-known and local-use prefixes, 6to4, Teredo client), or the address
// itself when it embeds none.
IpAddress embedded_ipv4(const IpAddress& address);

}  // namespace chokepoint::net
