// The net module's options from the process settings (config/settings.hpp):
// the DNS cache's TTLs, size and per-client share, the resolver's servers
// and timeout, the dialer's connect timeout. Their defaults are the settings
// table's and are written nowhere else; tests and tools that want "the
// defaults" pass config::Settings{}.
#pragma once

#include <chokepoint/config/settings.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/net/resolver.hpp>

namespace chokepoint::net {

DnsCacheOptions dns_cache_options(const config::Settings& settings);
ResolverOptions resolver_options(const config::Settings& settings);
DialOptions dial_options(const config::Settings& settings);

}  // namespace chokepoint::net
