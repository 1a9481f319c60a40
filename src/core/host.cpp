#include <chokepoint/core/host.hpp>

namespace chokepoint {
namespace {

constexpr std::size_t kMaxNameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}

// True for a label that resolvers (inet_aton) read as a number: decimal,
// octal with a leading 0, or hex with 0x.
bool is_numeric_label(std::string_view label) {
  if (label.empty()) return false;
  if (label.size() > 2 && label[0] == '0' && label[1] == 'x') {
    for (char c : label.substr(2)) {
      if (!is_hex(c)) return false;
    }
    return true;
  }
  for (char c : label) {
    if (!is_digit(c)) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(HostError error) {
  switch (error) {
    case HostError::None:
      return "ok";
    case HostError::Empty:
      return "empty host";
    case HostError::NonAscii:
      return "non-ascii host name (use the xn-- a-label form)";
    case HostError::BadCharacter:
      return "invalid character in host name";
    case HostError::EmptyLabel:
      return "empty label in host name";
    case HostError::LabelTooLong:
      return "host name label longer than 63 characters";
    case HostError::NameTooLong:
      return "host name longer than 253 characters";
    case HostError::NumericName:
      return "numeric host that is not a dotted-quad ipv4 address";
    case HostError::BadIpv6:
      return "invalid ipv6 literal";
    case HostError::BadPort:
      return "invalid port";
    case HostError::MissingPort:
      return "missing port";
    case HostError::UserInfo:
      return "user info in authority";
    case HostError::HasPath:
      return "path in authority";
  }
  return "invalid host";
}

HostError normalize_host(std::string_view text, Host& out) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) return HostError::Empty;

  if (text.find(':') != std::string_view::npos) {
    // Zone ids ("fe80::1%eth0") name an interface of ours; never a destination.
    const auto address = IpAddress::parse(text);
    if (!address || address->is_v4()) return HostError::BadIpv6;
    out.kind = HostKind::Ipv6;
    out.address = *address;
    out.name = address->to_string();
    return HostError::None;
  }

  if (text.size() > kMaxNameLength) return HostError::NameTooLong;
  out.name.resize(text.size());
  std::size_t label_length = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) return HostError::NonAscii;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      if (label_length == 0) return HostError::EmptyLabel;
      label_length = 0;
    } else if ((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_') {
      if (++label_length > kMaxLabelLength) return HostError::LabelTooLong;
    } else {
      return HostError::BadCharacter;
    }
    out.name[i] = c;
  }
  if (label_length == 0) return HostError::EmptyLabel;

  const auto last_dot = out.name.rfind('.');
  const std::string_view last_label = last_dot == std::string::npos
                                          ? std::string_view(out.name)
                                          : std::string_view(out.name).substr(last_dot + 1);
  if (is_numeric_label(last_label)) {
    const auto address = IpAddress::parse(out.name);
    if (!address) return HostError::NumericName;
    out.kind = HostKind::Ipv4;
    out.address = *address;
    return HostError::None;
  }
  out.kind = HostKind::Name;
  return HostError::None;
}

HostError parse_port(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5) return HostError::BadPort;
  std::uint32_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) return HostError::BadPort;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return HostError::BadPort;
  out = static_cast<std::uint16_t>(value);
  return HostError::None;
}

HostError parse_authority(std::string_view text, Host& host, std::uint16_t& port,
                          std::uint16_t default_port) {
  if (text.empty()) return HostError::Empty;
  if (text.find('@') != std::string_view::npos) return HostError::UserInfo;
  if (text.find_first_of("/?#") != std::string_view::npos) return HostError::HasPath;

  std::string_view host_text;
  std::string_view port_text;
  bool has_port = false;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return HostError::BadIpv6;
    host_text = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return HostError::BadIpv6;
      port_text = rest.substr(1);
      has_port = true;
    }
    if (host_text.find(':') == std::string_view::npos) return HostError::BadIpv6;
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      // An unbracketed IPv6 literal has several colons and no port we could
      // tell apart from its last group: refuse rather than guess.
      if (text.find(':') != colon) return HostError::BadIpv6;
      host_text = text.substr(0, colon);
      port_text = text.substr(colon + 1);
      has_port = true;
    } else {
      host_text = text;
    }
  }

  if (has_port) {
    if (const auto error = parse_port(port_text, port); error != HostError::None) return error;
  } else if (default_port != 0) {
    port = default_port;
  } else {
    return HostError::MissingPort;
  }
  return normalize_host(host_text, host);
}

std::string format_authority(const Host& host, std::uint16_t port) {
  if (host.kind == HostKind::Ipv6) return '[' + host.name + "]:" + std::to_string(port);
  return host.name + ':' + std::to_string(port);
}

}  // namespace chokepoint
