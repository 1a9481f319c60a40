// The net module's options come from the process settings: each flag's
// value arrives in the struct that uses it, and the defaults are the
// settings table's (written there only).
#include <catch2/catch.hpp>

#include <chokepoint/net/options.hpp>

using namespace chokepoint;
using namespace std::chrono_literals;

TEST_CASE("net options: every setting arrives", "[net][options]") {
  config::Settings s;
  s.dns_min_ttl = 7s;
  s.dns_max_ttl = 2h;
  s.dns_negative_ttl = 11s;
  s.dns_stale_for = 3min;
  s.dns_cache_size = 123;
  s.dns_max_in_flight_per_client = 9;
  s.dns_servers = {*Endpoint::parse("192.0.2.53:53"), *Endpoint::parse("[2001:db8::53]:5353")};
  s.dns_timeout = 1500ms;
  s.connect_timeout = 4s;
  const net::DnsCacheOptions cache = net::dns_cache_options(s);
  CHECK(cache.min_ttl == 7s);
  CHECK(cache.max_ttl == 2h);
  CHECK(cache.negative_ttl == 11s);
  CHECK(cache.stale_for == 3min);
  CHECK(cache.capacity == 123);
  CHECK(cache.max_in_flight_per_client == 9);
  const net::ResolverOptions resolver = net::resolver_options(s);
  REQUIRE(resolver.servers.size() == 2);
  CHECK(resolver.servers[0].to_string() == "192.0.2.53:53");
  CHECK(resolver.servers[1].to_string() == "[2001:db8::53]:5353");
  CHECK(resolver.timeout == 1500ms);
  CHECK(net::dial_options(s).connect_timeout == 4s);
}

TEST_CASE("net options: the defaults are the settings table's", "[net][options]") {
  const config::Settings defaults;
  const net::DnsCacheOptions cache = net::dns_cache_options(defaults);
  CHECK(cache.min_ttl == defaults.dns_min_ttl);
  CHECK(cache.max_ttl == defaults.dns_max_ttl);
  CHECK(cache.negative_ttl == defaults.dns_negative_ttl);
  CHECK(cache.stale_for == defaults.dns_stale_for);
  CHECK(cache.capacity == defaults.dns_cache_size);
  CHECK(cache.max_in_flight_per_client == defaults.dns_max_in_flight_per_client);
  CHECK(net::resolver_options(defaults).timeout == defaults.dns_timeout);
  CHECK(net::resolver_options(defaults).servers.empty());  // /etc/resolv.conf's
  CHECK(net::dial_options(defaults).connect_timeout == defaults.connect_timeout);
  // As README.md's option table says them.
  CHECK(cache.min_ttl == 5s);
  CHECK(cache.max_ttl == 1h);
  CHECK(cache.negative_ttl == 30s);
  CHECK(cache.stale_for == 0s);
  CHECK(cache.capacity == 10'000);
  CHECK(cache.max_in_flight_per_client == 64);
  CHECK(net::resolver_options(defaults).timeout == 5s);
  CHECK(net::dial_options(defaults).connect_timeout == 10s);
}
