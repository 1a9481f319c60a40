#include <chokepoint/core/endpoint.hpp>

namespace chokepoint {
namespace {

// Splits "host:port" where host may be "[v6]" or empty; each part may be empty.
bool split_host_port(std::string_view text, std::string_view& host, std::string_view& port,
                     std::string_view& rest) {
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    text.remove_prefix(close + 1);
    if (text.empty() || text.front() != ':') return false;
    text.remove_prefix(1);
  } else {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    host = text.substr(0, colon);
    text.remove_prefix(colon + 1);
  }
  const auto colon = text.find(':');
  port = text.substr(0, colon);
  rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  return true;
}

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

std::optional<Endpoint> Endpoint::parse(std::string_view text, std::string* error) {
  std::string_view host;
  std::string_view port;
  std::string_view rest;
  if (!split_host_port(text, host, port, rest) || !rest.empty() ||
      (text.front() != '[' && host.find(':') != std::string_view::npos)) {
    fail(error, "expected ADDRESS:PORT, e.g. 127.0.0.1:3128 or [::1]:3128, not '" +
                    std::string(text) + "'");
    return std::nullopt;
  }
  const auto address = IpAddress::parse(host);
  if (!address) {
    fail(error,
         "'" + std::string(host) + "' is not an IP address (listeners bind addresses, not names)");
    return std::nullopt;
  }
  Endpoint endpoint;
  endpoint.address = *address;
  if (port != "0" && parse_port(port, endpoint.port) != HostError::None) {
    fail(error, "bad port '" + std::string(port) + "'");
    return std::nullopt;
  }
  return endpoint;
}

std::optional<Endpoint> Endpoint::parse_with_default_port(std::string_view text,
                                                          std::uint16_t default_port,
                                                          std::string* error) {
  std::string_view bare = text;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  if (const auto address = IpAddress::parse(bare)) return Endpoint{*address, default_port};
  if (text.find(':') == std::string_view::npos) {
    fail(error, "'" + std::string(text) + "' is not an IP address");
    return std::nullopt;
  }
  return parse(text, error);
}

std::string Endpoint::to_string() const {
  if (address.is_v4()) return address.to_string() + ':' + std::to_string(port);
  return '[' + address.to_string() + "]:" + std::to_string(port);
}

std::optional<ConnectTo> ConnectTo::parse(std::string_view text, std::string* error) {
  const std::string usage =
      "expected HOST:PORT:ADDR:PORT (curl's --connect-to), not '" + std::string(text) + "'";
  std::string_view host;
  std::string_view port;
  std::string_view rest;
  if (!split_host_port(text, host, port, rest) || rest.empty()) {
    fail(error, usage);
    return std::nullopt;
  }
  std::string_view to_host;
  std::string_view to_port;
  std::string_view tail;
  if (!split_host_port(rest, to_host, to_port, tail) || !tail.empty() ||
      (rest.front() != '[' && to_host.find(':') != std::string_view::npos)) {
    fail(error, usage);
    return std::nullopt;
  }
  ConnectTo rule;
  Host normalized;
  if (!host.empty()) {
    if (normalize_host(host, normalized) != HostError::None) {
      fail(error, "bad host '" + std::string(host) + "' in " + std::string(text));
      return std::nullopt;
    }
    rule.host = normalized.name;
  }
  if (!to_host.empty()) {
    if (normalize_host(to_host, normalized) != HostError::None) {
      fail(error, "bad address '" + std::string(to_host) + "' in " + std::string(text));
      return std::nullopt;
    }
    rule.to_host = normalized.name;
  }
  if ((!port.empty() && parse_port(port, rule.port) != HostError::None) ||
      (!to_port.empty() && parse_port(to_port, rule.to_port) != HostError::None)) {
    fail(error, "bad port in " + std::string(text));
    return std::nullopt;
  }
  return rule;
}

const ConnectTo* find_connect_to(const std::vector<ConnectTo>& rules, std::string_view host,
                                 std::uint16_t port) {
  for (const auto& rule : rules) {
    if (rule.matches(host, port)) return &rule;
  }
  return nullptr;
}

}  // namespace chokepoint
