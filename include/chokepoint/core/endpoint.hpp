// Socket endpoints and --connect-to overrides as operators write them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/core/host.hpp>
#include <chokepoint/core/ip.hpp>

namespace chokepoint {

// "127.0.0.1:3128", "[::1]:3128", "0.0.0.0:3128". Port 0 asks the kernel to
// pick one (tests use it).
struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;

  static std::optional<Endpoint> parse(std::string_view text, std::string* error = nullptr);
  // The same, where the port may be left out ("10.0.0.2", "[::1]", "::1"):
  // then it is `default_port`.
  static std::optional<Endpoint> parse_with_default_port(std::string_view text,
                                                         std::uint16_t default_port,
                                                         std::string* error = nullptr);
  std::string to_string() const;
};

// One --connect-to rule, with curl's semantics: when the destination is
// HOST:PORT, dial ADDR:PORT instead. An empty HOST or PORT on the left
// matches any; an empty PORT on the right keeps the destination's port, an
// empty ADDR keeps its host (and its DNS lookup). The first match wins.
struct ConnectTo {
  std::string host;           // normalised; empty = any
  std::uint16_t port = 0;     // 0 = any
  std::string to_host;        // an IP literal or a name; empty = the destination's host
  std::uint16_t to_port = 0;  // 0 = the destination's port

  static std::optional<ConnectTo> parse(std::string_view text, std::string* error = nullptr);
  bool matches(std::string_view destination_host, std::uint16_t destination_port) const {
    return (host.empty() || host == destination_host) && (port == 0 || port == destination_port);
  }
};

// The first rule matching the destination, or nullptr.
const ConnectTo* find_connect_to(const std::vector<ConnectTo>& rules, std::string_view host,
                                 std::uint16_t port);

}  // namespace chokepoint
