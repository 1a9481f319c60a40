// A parent (upstream) proxy as operators write it, in --upstream-proxy and
// in a rule's `upstream_proxy:` (DESIGN.md, "Command line"):
//
//   http://[USER:PASSWORD@]HOST:PORT[/]
//
// An HTTP proxy that takes CONNECT (squid, a corporate proxy): chokepoint
// decides first, then asks it for the destination by name. HOST is a name
// (resolved when dialed, through chokepoint's own resolver) or an IP
// literal ([v6] in brackets); the port is required, because parents listen
// on anything from 3128 to 8080 and a guessed one fails late. USER and
// PASSWORD are percent-decoded (RFC 3986 3.2.1: "p%40ss" is "p@ss") and
// sent as Basic credentials; they never appear in to_string(), records or
// messages. https:// parents (TLS to the parent) are not supported.
//
// Pure: no I/O. Parsing never throws; an error is a sentence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/core/host.hpp>

namespace chokepoint {

struct UpstreamProxy {
  Host host;  // normalised: a name, or an IP literal
  std::uint16_t port = 0;
  std::string user;  // decoded; empty: no credentials
  std::string password;

  // The URL as written above. On failure, nullopt and `error` (when given)
  // says what is wrong and what to write instead.
  static std::optional<UpstreamProxy> parse(std::string_view url, std::string* error = nullptr);

  bool has_credentials() const { return !user.empty() || !password.empty(); }
  // "HOST:PORT" ([v6]:PORT): how records and answers name the parent.
  std::string to_string() const { return format_authority(host, port); }

  friend bool operator==(const UpstreamProxy& a, const UpstreamProxy& b) {
    return a.host.name == b.host.name && a.port == b.port && a.user == b.user &&
           a.password == b.password;
  }
};

}  // namespace chokepoint
