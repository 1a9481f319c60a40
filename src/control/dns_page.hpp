// GET /dns: the DNS cache's counters and its names, the most looked-up
// first, as one JSON object.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <chokepoint/net/dns_cache.hpp>

namespace chokepoint::control {

// At most this many names are listed (the cache holds --dns-cache-size).
inline constexpr std::size_t kDnsListed = 1000;

struct DnsPage {
  net::DnsStats stats;
  std::vector<net::DnsCacheItem> names;  // every cached name, in any order
};

// {"names", "listed", "lookups", "hits", "misses", "queries", "entries": [
// {"name", "status", "addresses", "ttl_left_s", "hits"}, ...]} and a newline;
// the entries sorted by hits, at most kDnsListed.
std::string render_dns(DnsPage page);

}  // namespace chokepoint::control
