// The PAC file (proxy auto-configuration) generated from a policy.
//
// FindProxyForURL answers `PROXY host:port` for every destination some role
// may reach under the policy (exact names, `*.suffix`, middle-label `*`,
// `.domain`, CIDR blocks for IP-literal hosts), on the rule's ports (taken
// from the URL: its explicit port, else its scheme's: http/ws 80, https/wss
// 443, ftp 21) and, for plain http:// URLs, under the entry's path; and the
// fallback (`pac.fallback`, DIRECT by default) for everything else. A PAC file
// cannot express `re:` rules: they are listed in a comment at the top and
// left to the fallback. In `mode: audit` every destination is let out, so
// the file answers PROXY for all of them.
//
// Sending a request through the proxy is never a leak (chokepoint still
// decides and records it), so where the file errs it errs towards PROXY:
// `deny` rules do not take names out of it.
//
// Pure: no I/O, nothing thrown beyond std::bad_alloc. The text depends only
// on its inputs, so a server may cache it per policy generation and address.
// The script is ECMAScript 3 (what PAC engines such as pacparser run) and
// calls no DNS function: isInNet is only ever given an IPv4 literal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/policy.hpp>

namespace chokepoint::pac {

// Where FindProxyForURL sends what it proxies. A normalised host, so the text
// written into the script can hold nothing but a name or an address.
struct ProxyAddress {
  Host host;
  std::uint16_t port = 0;

  // "host:port", an IPv6 address in brackets.
  std::string to_string() const { return format_authority(host, port); }
};

// The address a served PAC file names: the policy's `pac.proxy` when set,
// else `request_host` (the Host header the client fetched the file with;
// HOST or HOST:PORT, the port defaulting to `listener_port`). nullopt when
// neither is a valid authority (answer 400).
std::optional<ProxyAddress> choose_proxy(const policy::Policy& policy,
                                         std::string_view request_host,
                                         std::uint16_t listener_port);

// The PAC file for `policy`, naming `proxy`, with `fallback` for what the
// policy never lets out (callers pass `policy.pac.fallback` unless told
// otherwise). Serve it as `application/x-ns-proxy-autoconfig`.
std::string generate_pac(const policy::Policy& policy, const ProxyAddress& proxy,
                         policy::PacFallback fallback);

}  // namespace chokepoint::pac
