#include "v1_line.hpp"

#include <array>

namespace chokepoint::proxy_protocol::detail {
namespace {

// Decimal 0..65535, no sign, no leading zero (the spec forbids them so that
// nobody reads a port as octal).
bool parse_port(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
  std::uint32_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value > 65535) return false;
  out = static_cast<std::uint16_t>(value);
  return true;
}

// The characters of the family's text form are checked first: inet_pton
// (under IpAddress::parse) stops at a NUL, so "192.0.2.1\0junk" would
// otherwise pass as 192.0.2.1.
bool parse_address(std::string_view text, Family family, IpAddress& out) {
  const std::string_view allowed =
      family == Family::Inet ? "0123456789." : "0123456789abcdefABCDEF:.";
  if (text.find_first_not_of(allowed) != std::string_view::npos) return false;
  const auto address = IpAddress::parse(text);
  if (!address || address->is_v4() != (family == Family::Inet)) return false;
  out = *address;
  return true;
}

}  // namespace

// Version 1 (proxy-protocol.txt 2.1), one line of US-ASCII:
//
//   "PROXY" SP "TCP4" SP src4 SP dst4 SP srcport SP dstport CRLF
//   "PROXY" SP "TCP6" SP src6 SP dst6 SP srcport SP dstport CRLF
//   "PROXY" SP "UNKNOWN" [SP anything] CRLF
//
//   exactly one space between fields; IPv4 as four decimal numbers without
//   leading zeros, IPv6 in its usual text form, of the family the protocol
//   names; ports 0..65535 in decimal without leading zeros. After UNKNOWN
//   the receiver must ignore whatever comes before the CRLF.
std::string_view parse_v1_line(std::string_view line, Header& out) {
  constexpr std::string_view kUnknown = "UNKNOWN";
  std::string_view rest = line.substr(6);  // past "PROXY "
  out = Header{};
  out.version = 1;
  out.command = Command::Proxy;
  if (rest == kUnknown || rest.starts_with("UNKNOWN ")) return {};

  std::array<std::string_view, 5> fields;  // protocol, src, dst, srcport, dstport
  std::size_t count = 0;
  for (;;) {
    const std::size_t space = rest.find(' ');
    const std::string_view field = rest.substr(0, space);
    if (field.empty()) return "v1: fields must be separated by single spaces";
    if (count == fields.size()) return "v1: too many fields";
    fields[count++] = field;
    if (space == std::string_view::npos) break;
    rest = rest.substr(space + 1);
  }
  if (fields[0] == "TCP4") {
    out.family = Family::Inet;
  } else if (fields[0] == "TCP6") {
    out.family = Family::Inet6;
  } else {
    return "v1: protocol is not TCP4, TCP6 or UNKNOWN";
  }
  out.transport = Transport::Stream;
  if (count != fields.size()) return "v1: too few fields";
  if (!parse_address(fields[1], out.family, out.source.address)) return "v1: bad source address";
  if (!parse_address(fields[2], out.family, out.destination.address))
    return "v1: bad destination address";
  if (!parse_port(fields[3], out.source.port)) return "v1: bad source port";
  if (!parse_port(fields[4], out.destination.port)) return "v1: bad destination port";
  return {};
}

}  // namespace chokepoint::proxy_protocol::detail
