#include <catch2/catch.hpp>

#include <chokepoint/net/address_class.hpp>

using namespace chokepoint;
using namespace chokepoint::net;

TEST_CASE("address classes, IPv4 and IPv6, with embedded IPv4 seen through", "[net][vetting]") {
  const std::pair<const char*, AddressClass> table[] = {
      {"8.8.8.8", AddressClass::Public},
      {"52.95.110.1", AddressClass::Public},
      {"0.0.0.0", AddressClass::Unspecified},
      {"0.1.2.3", AddressClass::Unspecified},
      {"127.0.0.1", AddressClass::Loopback},
      {"127.255.255.254", AddressClass::Loopback},
      {"10.0.0.5", AddressClass::Private},
      {"172.16.0.1", AddressClass::Private},
      {"172.31.255.255", AddressClass::Private},
      {"172.32.0.1", AddressClass::Public},
      {"192.168.1.1", AddressClass::Private},
      {"169.254.1.1", AddressClass::LinkLocal},
      {"169.254.169.254", AddressClass::Metadata},
      {"169.254.170.2", AddressClass::Metadata},
      {"100.100.100.200", AddressClass::Metadata},
      {"100.64.0.1", AddressClass::Cgnat},
      {"100.127.255.255", AddressClass::Cgnat},
      {"100.128.0.0", AddressClass::Public},
      {"224.0.0.1", AddressClass::Multicast},
      {"239.255.255.250", AddressClass::Multicast},
      {"240.0.0.1", AddressClass::Reserved},
      {"255.255.255.255", AddressClass::Reserved},
      {"192.0.2.1", AddressClass::Reserved},
      {"198.18.0.1", AddressClass::Reserved},
      {"2606:4700::1111", AddressClass::Public},
      {"::", AddressClass::Unspecified},
      {"::1", AddressClass::Loopback},
      {"fe80::1", AddressClass::LinkLocal},
      {"fc00::1", AddressClass::Private},
      {"fd12:3456::1", AddressClass::Private},
      {"fd00:ec2::254", AddressClass::Metadata},
      {"ff02::1", AddressClass::Multicast},
      {"2001:db8::1", AddressClass::Reserved},
      {"::ffff:10.0.0.1", AddressClass::Private},  // v4-mapped
      {"::ffff:169.254.169.254", AddressClass::Metadata},
      {"::ffff:8.8.8.8", AddressClass::Public},
      {"::10.0.0.1", AddressClass::Private},           // v4-compatible
      {"64:ff9b::a9fe:a9fe", AddressClass::Metadata},  // NAT64 of 169.254.169.254
      {"64:ff9b::7f00:1", AddressClass::Loopback},     // NAT64 of 127.0.0.1
      {"64:ff9b::808:808", AddressClass::Public},      // NAT64 of 8.8.8.8 (DNS64 networks)
      {"64:ff9b:1::a00:1", AddressClass::Private},     // local-use NAT64 of 10.0.0.1
      {"2002:a00:1::1", AddressClass::Private},        // 6to4 of 10.0.0.1
      {"2002:7f00:1::", AddressClass::Loopback},       // 6to4 of 127.0.0.1
      {"2001:0:4136:e378:8000:63bf:f5ff:fffe", AddressClass::Private},  // Teredo client 10.0.0.1
      {"2a03:2880::1", AddressClass::Public},
      {"3fff::1", AddressClass::Reserved},  // documentation (RFC 9637)
      {"4000::1", AddressClass::Reserved},
  };
  for (const auto& [text, expected] : table) {
    INFO(text);
    const auto address = IpAddress::parse(text);
    REQUIRE(address);
    CHECK(to_string(classify(*address)) == to_string(expected));
  }
}
