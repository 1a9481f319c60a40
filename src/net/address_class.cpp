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
  if (all_zero(b, 0, 16)) return AddressClass::Unspecified;
  if (all_zero(b, 0, 15) && b[15] == 1) return AddressClass::Loopback;
  // fd00:ec2::254, the AWS metadata service over IPv6.
  static constexpr std::array<std::uint8_t, 16> kAwsMetadata6 = {
      0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (b == kAwsMetadata6) return AddressClass::Metadata;
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::Private;                    // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::LinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
    return AddressClass::Private;  // fec0::/10, deprecated site-local
  if (b[0] == 0xff) return AddressClass::Multicast;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
    return AddressClass::Reserved;  // 2001:db8::/32
  if (b[0] == 0x01 && b[1] == 0x00 && all_zero(b, 2, 8))
    return AddressClass::Reserved;                           // 100::/64 discard
  if ((b[0] & 0xe0) != 0x20) return AddressClass::Reserved;  // outside 2000::/3 global unicast
  return AddressClass::Public;
}

}  // namespace chokepoint::net
