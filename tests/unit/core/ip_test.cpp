#include <catch2/catch.hpp>

#include <chokepoint/core/ip.hpp>

using namespace chokepoint;

TEST_CASE("IpAddress parses strictly and prints canonically", "[core][ip]") {
  CHECK(IpAddress::parse("10.0.0.1")->to_string() == "10.0.0.1");
  CHECK(IpAddress::parse("255.100.99.0")->to_string() == "255.100.99.0");
  CHECK(IpAddress::parse("109.90.9.10")->to_string() == "109.90.9.10");
  CHECK(IpAddress::parse("2001:DB8:0:0::1")->to_string() == "2001:db8::1");
  CHECK_FALSE(IpAddress::parse("10.0.0"));
  CHECK_FALSE(IpAddress::parse("10.0.0.01"));
  CHECK_FALSE(IpAddress::parse("10.0.0.256"));
  CHECK_FALSE(IpAddress::parse(""));
  CHECK_FALSE(IpAddress::parse("[::1]"));
  CHECK_FALSE(IpAddress::parse(std::string(100, '1')));
  // A NUL inside (a SOCKS5 domain may carry one) is not cut short.
  CHECK_FALSE(IpAddress::parse(std::string("::1\0junk", 8)));
  CHECK_FALSE(IpAddress::parse(std::string("10.0.0.1\0", 9)));
}

TEST_CASE("IpAddress::unmapped turns v4-mapped IPv6 into IPv4", "[core][ip]") {
  const auto mapped = IpAddress::parse("::ffff:192.0.2.1");
  REQUIRE(mapped);
  CHECK(mapped->unmapped().is_v4());
  CHECK(mapped->unmapped().to_string() == "192.0.2.1");
  const auto plain = IpAddress::parse("2001:db8::1");
  CHECK_FALSE(plain->unmapped().is_v4());
  const auto compat = IpAddress::parse("::192.0.2.1");  // deprecated compatible form, not mapped
  CHECK_FALSE(compat->unmapped().is_v4());
}

TEST_CASE("Cidr parses, refuses host bits and contains", "[core][ip]") {
  std::string error;
  const auto ten = Cidr::parse("10.0.0.0/8", &error);
  REQUIRE(ten);
  CHECK(ten->contains(*IpAddress::parse("10.255.1.2")));
  CHECK_FALSE(ten->contains(*IpAddress::parse("11.0.0.1")));
  CHECK_FALSE(
      ten->contains(*IpAddress::parse("::ffff:10.0.0.1")));  // families differ; callers unmap

  CHECK_FALSE(Cidr::parse("10.0.0.1/8", &error));
  CHECK(error.find("write 10.0.0.0/8") != std::string::npos);
  CHECK_FALSE(Cidr::parse("10.0.0.0/33", &error));
  CHECK_FALSE(Cidr::parse("10.0.0.0/", &error));
  CHECK_FALSE(Cidr::parse("10.0.0.0/x", &error));
  CHECK_FALSE(Cidr::parse("example.com/8", &error));

  const auto host = Cidr::parse("192.0.2.7");
  REQUIRE(host);
  CHECK(host->prefix_length() == 32);
  CHECK(host->to_string() == "192.0.2.7/32");

  const auto v6 = Cidr::parse("2001:db8::/32");
  REQUIRE(v6);
  CHECK(v6->contains(*IpAddress::parse("2001:db8:ffff::1")));
  CHECK_FALSE(v6->contains(*IpAddress::parse("2001:db9::1")));
  const auto zero = Cidr::parse("0.0.0.0/0");
  REQUIRE(zero);
  CHECK(zero->contains(*IpAddress::parse("203.0.113.9")));
  const auto odd = Cidr::parse("100.64.0.0/10");
  REQUIRE(odd);
  CHECK(odd->contains(*IpAddress::parse("100.127.255.255")));
  CHECK_FALSE(odd->contains(*IpAddress::parse("100.128.0.0")));
}
