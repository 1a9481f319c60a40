#include <chokepoint/net/options.hpp>

namespace chokepoint::net {

DnsCacheOptions dns_cache_options(const config::Settings& settings) {
  DnsCacheOptions o;
  o.min_ttl = settings.dns_min_ttl;
  o.max_ttl = settings.dns_max_ttl;
  o.negative_ttl = settings.dns_negative_ttl;
  o.stale_for = settings.dns_stale_for;
  o.capacity = settings.dns_cache_size;
  o.max_in_flight_per_client = settings.dns_max_in_flight_per_client;
  return o;
}

ResolverOptions resolver_options(const config::Settings& settings) {
  ResolverOptions o;
  o.servers = settings.dns_servers;
  o.timeout = settings.dns_timeout;
  return o;
}

DialOptions dial_options(const config::Settings& settings) {
  DialOptions o;
  o.connect_timeout = settings.connect_timeout;
  return o;
}

}  // namespace chokepoint::net
