// Destination names as the policy sees them.
//
// Every name that reaches a decision (CONNECT authority, absolute URI, Host
// header, SNI) passes through normalize_host first, so the policy compares one
// canonical form (DESIGN.md, "Policy semantics"):
//   - ASCII only; IDNs must arrive as A-labels (xn--...);
//   - lowercase, one trailing dot removed;
//   - labels of 1..63 characters from [a-z0-9_-] (underscore tolerated: an RFC
//     violation too common in real names to refuse), names of at most 253;
//   - IP literals canonical (inet_ntop text), so "2001:DB8::1" == "2001:db8::1";
//   - a numeric-looking name that is not a dotted-quad IPv4 address ("127.1",
//     "0x7f000001", "2130706433") is refused: resolvers turn those into
//     addresses, and a hostname rule must never be tricked into matching one.
// Nothing here allocates beyond the output string, and nothing throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <chokepoint/core/ip.hpp>

namespace chokepoint {

enum class HostKind : std::uint8_t { Name, Ipv4, Ipv6 };

struct Host {
  HostKind kind = HostKind::Name;
  std::string name;   // canonical text: the name, or the address without brackets
  IpAddress address;  // meaningful when kind != Name

  bool is_ip() const { return kind != HostKind::Name; }
};

enum class HostError : std::uint8_t {
  None,
  Empty,
  NonAscii,
  BadCharacter,
  EmptyLabel,
  LabelTooLong,
  NameTooLong,
  NumericName,
  BadIpv6,
  BadPort,
  MissingPort,
  UserInfo,
  HasPath,
};

// Short lowercase phrase, e.g. "non-ascii host name".
std::string_view to_string(HostError error);

// Normalises a bare host (no port; IPv6 without brackets). On error `out` is
// unspecified.
HostError normalize_host(std::string_view text, Host& out);

// Parses a decimal port 1..65535 (no sign, no leading zeros beyond "0" forms
// that fit in five digits).
HostError parse_port(std::string_view text, std::uint16_t& out);

// Parses an authority `host:port` or `[v6]:port` (RFC 9110 9.3.6 CONNECT
// target). With `default_port` non-zero the port may be omitted (Host header,
// absolute URI). User info ("user@") and any path are refused.
HostError parse_authority(std::string_view text, Host& host, std::uint16_t& port,
                          std::uint16_t default_port = 0);

// "host:port" with IPv6 in brackets, for logs and messages.
std::string format_authority(const Host& host, std::uint16_t port);

}  // namespace chokepoint
