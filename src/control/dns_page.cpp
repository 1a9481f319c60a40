#include "dns_page.hpp"

#include <algorithm>

#include <chokepoint/core/json.hpp>

namespace chokepoint::control {

std::string render_dns(DnsPage page) {
  std::vector<net::DnsCacheItem>& items = page.names;
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.hits > b.hits; });
  const net::DnsStats& stats = page.stats;
  std::string out;
  JsonObject json(out);
  json.field("names", std::uint64_t{items.size()})
      .field("listed", std::uint64_t{std::min(items.size(), kDnsListed)})
      .field("lookups", stats.lookups)
      .field("hits", stats.hits)
      .field("misses", stats.misses)
      .field("queries", stats.queries);
  std::string entries = "[";
  for (std::size_t i = 0; i < items.size() && i < kDnsListed; ++i) {
    const auto& item = items[i];
    if (i) entries += ",\n";
    JsonObject entry(entries);
    std::string addresses = "[";
    for (std::size_t j = 0; j < item.addresses.size(); ++j) {
      if (j) addresses += ',';
      append_json_string(addresses, item.addresses[j].to_string());
    }
    addresses += ']';
    entry.field("name", item.name)
        .field("status", net::to_string(item.status))
        .raw_field("addresses", addresses)
        .field("ttl_left_s", item.ttl_left_ms / 1000)
        .field("hits", item.hits);
    entry.close();
  }
  entries += "]";
  json.raw_field("entries", entries);
  json.close();
  return out + "\n";
}

}  // namespace chokepoint::control
