#include <array>

#include <chokepoint/net/address_class.hpp>

namespace chokepoint::net {
namespace {

struct Range {
  std::uint32_t network;
  int prefix;
  AddressClass cls;
};

constexpr std::uint32_t v4(int a, int b, int c, int d) {
  return (static_cast<std::uint32_t>(a) << 24) | (static_cast<std::uint32_t>(b) << 16) |
         (static_cast<std::uint32_t>(c) << 8) | static_cast<std::uint32_t>(d);
}

// Most specific first: metadata addresses sit inside link-local and CGNAT.
constexpr Range kV4Ranges[] = {
    {v4(169, 254, 169, 254), 32, AddressClass::Metadata},  // AWS, GCP, Azure, OpenStack
    {v4(169, 254, 170, 2), 32, AddressClass::Metadata},    // AWS ECS task metadata
    {v4(100, 100, 100, 200), 32, AddressClass::Metadata},  // Alibaba Cloud
    {v4(255, 255, 255, 255), 32, AddressClass::Reserved},  // limited broadcast
    {v4(0, 0, 0, 0), 8, AddressClass::Unspecified},
    {v4(10, 0, 0, 0), 8, AddressClass::Private},
    {v4(100, 64, 0, 0), 10, AddressClass::Cgnat},
    {v4(127, 0, 0, 0), 8, AddressClass::Loopback},
    {v4(169, 254, 0, 0), 16, AddressClass::LinkLocal},
    {v4(172, 16, 0, 0), 12, AddressClass::Private},
    {v4(192, 0, 0, 0), 24, AddressClass::Reserved},    // IETF protocol assignments
    {v4(192, 0, 2, 0), 24, AddressClass::Reserved},    // TEST-NET-1
    {v4(192, 88, 99, 0), 24, AddressClass::Reserved},  // deprecated 6to4 relay anycast
    {v4(192, 168, 0, 0), 16, AddressClass::Private},
    {v4(198, 18, 0, 0), 15, AddressClass::Reserved},    // benchmarking
    {v4(198, 51, 100, 0), 24, AddressClass::Reserved},  // TEST-NET-2
    {v4(203, 0, 113, 0), 24, AddressClass::Reserved},   // TEST-NET-3
    {v4(224, 0, 0, 0), 4, AddressClass::Multicast},
    {v4(240, 0, 0, 0), 4, AddressClass::Reserved},
};

struct Range6 {
  std::array<std::uint8_t, 16> prefix;
  int bits;
  AddressClass cls;
};

// Most specific first. Embedded-IPv4 forms are handled before this table.
constexpr Range6 kV6Ranges[] = {
    {{}, 128, AddressClass::Unspecified},                                             // ::
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, AddressClass::Loopback},  // ::1
    {{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54},
     128,
     AddressClass::Metadata},            // fd00:ec2::254 (AWS)
    {{0xfc}, 7, AddressClass::Private},  // unique local
    {{0xfe, 0x80}, 10, AddressClass::LinkLocal},
    {{0xfe, 0xc0}, 10, AddressClass::Private},  // deprecated site-local
    {{0xff}, 8, AddressClass::Multicast},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, AddressClass::Reserved},  // documentation
    {{0x3f, 0xff}, 20, AddressClass::Reserved},              // documentation (RFC 9637)
    {{0x01, 0x00}, 64, AddressClass::Reserved},              // discard-only
};

bool in_prefix(const std::array<std::uint8_t, 16>& address,
               const std::array<std::uint8_t, 16>& prefix, int bits) {
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i] & mask) != (prefix[i] & mask)) return false;
  }
  return true;
}

AddressClass classify_v4(std::uint32_t a) {
  for (const auto& r : kV4Ranges) {
    const std::uint32_t mask = r.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - r.prefix);
    if ((a & mask) == r.network) return r.cls;
  }
  return AddressClass::Public;
}

std::uint32_t read_v4(const std::array<std::uint8_t, 16>& b, int at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

bool all_zero(const std::array<std::uint8_t, 16>& b, int from, int to) {
  for (int i = from; i < to; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(AddressClass c) {
  switch (c) {
    case AddressClass::Public:
      return "public";
    case AddressClass::Unspecified:
      return "unspecified";
    case AddressClass::Loopback:
      return "loopback";
    case AddressClass::Private:
      return "private";
    case AddressClass::LinkLocal:
      return "link-local";
    case AddressClass::Cgnat:
      return "cgnat";
    case AddressClass::Multicast:
      return "multicast";
    case AddressClass::Metadata:
      return "metadata";
    case AddressClass::Reserved:
      return "reserved";
  }
  return "reserved";
}

IpAddress embedded_ipv4(const IpAddress& address) {
  if (address.is_v4()) return address;
  const auto& b = address.bytes();
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible; not :: or ::1).
  if (all_zero(b, 0, 10) &&
      ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0 && !all_zero(b, 12, 15)))) {
    return IpAddress::v4(read_v4(b, 12));
  }
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052).
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && all_zero(b, 4, 12)) {
    return IpAddress::v4(read_v4(b, 12));
  }
  // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215); operators pick the
  // embedding, /96 is the common one.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 &&
      b[5] == 0x01) {
    return IpAddress::v4(read_v4(b, 12));
  }
  // 6to4 2002:AABB:CCDD::/48 (RFC 3056).
  if (b[0] == 0x20 && b[1] == 0x02) return IpAddress::v4(read_v4(b, 2));
  // Teredo 2001:0000::/32: the client's IPv4 is the last 32 bits, inverted (RFC 4380).
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) {
    return IpAddress::v4(~read_v4(b, 12));
  }
  return address;
}

AddressClass classify(const IpAddress& address) {
  const IpAddress inner = embedded_ipv4(address);
  // A transition address that carries a public IPv4 address reaches that
  // address (DNS64 networks rely on it); one that carries a private address
  // is refused like the address itself.
  if (inner.is_v4()) return classify_v4(inner.v4_host_order());
  const auto& b = address.bytes();
  for (const auto& r : kV6Ranges) {
    if (in_prefix(b, r.prefix, r.bits)) return r.cls;
  }
  // Everything outside 2000::/3 global unicast is unassigned or special.
  if ((b[0] & 0xe0) != 0x20) return AddressClass::Reserved;
  return AddressClass::Public;
}

}  // namespace chokepoint::net
