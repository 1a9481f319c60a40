#include <chokepoint/core/client_network.hpp>

namespace chokepoint {

Cidr client_network(const IpAddress& address, const ClientPrefixes& prefixes) {
  const IpAddress a = address.unmapped();
  return Cidr(a, a.is_v4() ? prefixes.v4 : prefixes.v6);
}

std::string client_key(const IpAddress& address, const ClientPrefixes& prefixes) {
  const Cidr network = client_network(address, prefixes);
  const IpAddress& base = network.network();
  // Only the bytes the prefix covers: a /64 key is 10 bytes, not 18.
  const std::size_t bytes = static_cast<std::size_t>((network.prefix_length() + 7) / 8);
  std::string key;
  key.reserve(2 + bytes);
  key.push_back(base.is_v4() ? 'a' : 'A');
  key.push_back(static_cast<char>(network.prefix_length()));
  key.append(reinterpret_cast<const char*>(base.bytes().data()), bytes);
  return key;
}

}  // namespace chokepoint
