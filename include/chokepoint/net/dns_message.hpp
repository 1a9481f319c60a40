// Facts the resolver needs from a DNS response that c-ares 1.18 does not
// give: the negative-caching TTL of an NXDOMAIN or NODATA answer, which
// RFC 2308 (section 5) takes from the SOA record of the authority section
// (c-ares' ares_parse_soa_reply reads only the answer section).
//
// Addresses and their TTLs come from c-ares' own parsers (ares_parse_a_reply
// and ares_parse_aaaa_reply follow CNAME chains and check the question);
// this walker reads only what they cannot. It reads untrusted bytes through
// ByteReader, never past the message, never follows a compression pointer
// (skipping a name needs none), never allocates and never throws. A DNS
// message reaches it whole (c-ares reassembles TCP answers), so it is not
// incremental.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace chokepoint::net {

// The TTL to cache a negative answer for (RFC 2308 section 5): the smaller
// of the authority section's SOA record's own TTL and its MINIMUM field, in
// seconds. nullopt when the message has no SOA in its authority section or
// is malformed: such an answer is not to be cached (RFC 2308 section 5,
// "SHOULD NOT be cached").
std::optional<std::uint32_t> negative_ttl(std::span<const std::uint8_t> message);

}  // namespace chokepoint::net
