#include <arpa/inet.h>
#include <charconv>

#include <chokepoint/core/ip.hpp>

namespace chokepoint {

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  a.family_ = Family::V4;
  a.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = Family::V6;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a terminated string; the longest valid IPv6 text is 45 bytes.
  char buffer[64];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  // inet_pton would stop at an embedded NUL and take "::1\0junk" for "::1".
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  text.copy(buffer, text.size());
  buffer[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    a.family_ = Family::V4;
    if (inet_pton(AF_INET, buffer, a.bytes_.data()) != 1) return std::nullopt;
  } else {
    a.family_ = Family::V6;
    if (inet_pton(AF_INET6, buffer, a.bytes_.data()) != 1) return std::nullopt;
  }
  return a;
}

std::uint32_t IpAddress::v4_host_order() const {
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | std::uint32_t{bytes_[3]};
}

IpAddress IpAddress::unmapped() const {
  if (is_v4()) return *this;
  for (int i = 0; i < 10; ++i) {
    if (bytes_[i] != 0) return *this;
  }
  if (bytes_[10] != 0xff || bytes_[11] != 0xff) return *this;
  IpAddress a;
  a.family_ = Family::V4;
  for (int i = 0; i < 4; ++i)
    a.bytes_[i] = bytes_[12 + i];
  return a;
}

std::string IpAddress::to_string() const {
  if (is_v4()) {
    // By hand: glibc's inet_ntop formats IPv4 with sprintf, and every
    // connection's records carry two addresses. Digit by digit rather than
    // std::to_chars, whose unchecked failure path GCC 12 (-O3) sees writing
    // past the buffer.
    char buffer[15];  // 255.255.255.255
    std::size_t size = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      if (i) buffer[size++] = '.';
      const unsigned octet = bytes_[i];
      if (octet >= 100) buffer[size++] = static_cast<char>('0' + octet / 100);
      if (octet >= 10) buffer[size++] = static_cast<char>('0' + octet / 10 % 10);
      buffer[size++] = static_cast<char>('0' + octet % 10);
    }
    return std::string(buffer, size);
  }
  char buffer[INET6_ADDRSTRLEN];
  const char* text = inet_ntop(AF_INET6, bytes_.data(), buffer, sizeof buffer);
  return text ? std::string(text) : std::string();
}

IpAddress mask_address(const IpAddress& address, int prefix_length) {
  std::array<std::uint8_t, 16> bytes = address.bytes();
  const int total = address.bit_length() / 8;
  for (int i = 0; i < total; ++i) {
    const int bits_left = prefix_length - i * 8;
    if (bits_left >= 8) continue;
    bytes[i] = bits_left <= 0 ? 0 : static_cast<std::uint8_t>(bytes[i] & (0xff << (8 - bits_left)));
  }
  if (address.is_v4()) {
    return IpAddress::v4((std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]});
  }
  return IpAddress::v6(bytes);
}

Cidr::Cidr(IpAddress network, int prefix_length)
    : network_(mask_address(network, prefix_length)), prefix_(prefix_length) {}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<Cidr> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return fail("'" + std::string(text.substr(0, slash)) + "' is not an IP address");
  int prefix = address->bit_length();
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || digits.size() > 3 || ec != std::errc() ||
        end != digits.data() + digits.size() || prefix < 0 || prefix > address->bit_length()) {
      return fail("bad prefix length '" + std::string(digits) + "' (0 to " +
                  std::to_string(address->bit_length()) + ")");
    }
  }
  Cidr cidr(*address, prefix);
  if (!(cidr.network() == *address)) {
    return fail("host bits are set below the prefix; write " + cidr.to_string());
  }
  return cidr;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.family() != network_.family()) return false;
  return mask_address(address, prefix_) == network_;
}

std::string Cidr::to_string() const {
  return network_.to_string() + '/' + std::to_string(prefix_);
}

}  // namespace chokepoint
