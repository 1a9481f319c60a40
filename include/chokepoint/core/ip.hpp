// IP addresses and CIDR blocks as plain values.
//
// A thin value type over inet_pton/inet_ntop so the pure modules (policy, tls,
// audit) need no Asio; the network layer converts to and from
// boost::asio::ip::address at its edge. Parsing is strict: dotted-quad IPv4
// without leading zeros, RFC 4291 IPv6 text without a zone.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chokepoint {

class IpAddress {
 public:
  enum class Family : std::uint8_t { V4, V6 };

  IpAddress() = default;
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress v6(const std::array<std::uint8_t, 16>& bytes);
  // Strict text form; no brackets, no zone id, no port.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::V4; }
  int bit_length() const { return is_v4() ? 32 : 128; }
  // Network-order bytes: the first 4 for IPv4, all 16 for IPv6.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  std::uint32_t v4_host_order() const;

  // ::ffff:a.b.c.d becomes a.b.c.d; everything else is returned unchanged.
  IpAddress unmapped() const;
  // Canonical text (inet_ntop): "10.0.0.1", "2001:db8::1".
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::V4;
  std::array<std::uint8_t, 16> bytes_{};
};

class Cidr {
 public:
  Cidr() = default;
  Cidr(IpAddress network, int prefix_length);
  // "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128).
  // Refuses host bits set below the prefix, because "10.0.0.1/8" is almost
  // always a typo for something else.
  static std::optional<Cidr> parse(std::string_view text, std::string* error = nullptr);

  const IpAddress& network() const { return network_; }
  int prefix_length() const { return prefix_; }
  bool contains(const IpAddress& address) const;
  std::string to_string() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  IpAddress network_;
  int prefix_ = 0;
};

// `address` with every bit past `prefix_length` cleared.
IpAddress mask_address(const IpAddress& address, int prefix_length);

}  // namespace chokepoint
