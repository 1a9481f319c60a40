#include <catch2/catch.hpp>

#include <chokepoint/core/duration.hpp>
#include <chokepoint/core/endpoint.hpp>

using namespace chokepoint;

TEST_CASE("Endpoint parses listen addresses", "[core][endpoint]") {
  CHECK(Endpoint::parse("127.0.0.1:3128")->to_string() == "127.0.0.1:3128");
  CHECK(Endpoint::parse("[::1]:3128")->to_string() == "[::1]:3128");
  CHECK(Endpoint::parse("0.0.0.0:0")->port == 0);
  std::string error;
  CHECK_FALSE(Endpoint::parse("localhost:3128", &error));
  CHECK(error.find("not an IP address") != std::string::npos);
  CHECK_FALSE(Endpoint::parse("127.0.0.1", &error));
  CHECK_FALSE(Endpoint::parse("127.0.0.1:99999", &error));
  CHECK_FALSE(Endpoint::parse("::1:3128", &error));
  CHECK_FALSE(Endpoint::parse("", &error));
}

TEST_CASE("ConnectTo follows curl's --connect-to", "[core][connect-to]") {
  const auto all = ConnectTo::parse("ds20.icrc.trendmicro.com:443:127.0.0.1:8443");
  REQUIRE(all);
  CHECK(all->matches("ds20.icrc.trendmicro.com", 443));
  CHECK_FALSE(all->matches("ds20.icrc.trendmicro.com", 80));
  CHECK_FALSE(all->matches("other.example.com", 443));
  CHECK(all->to_host == "127.0.0.1");
  CHECK(all->to_port == 8443);

  const auto any_host = ConnectTo::parse(":443:127.0.0.1:8443");
  REQUIRE(any_host);
  CHECK(any_host->matches("whatever.example.com", 443));
  const auto any = ConnectTo::parse("::127.0.0.1:");
  REQUIRE(any);
  CHECK(any->matches("x.example.com", 80));
  CHECK(any->to_port == 0);
  const auto v6 = ConnectTo::parse("[2001:db8::1]:443:[::1]:8443");
  REQUIRE(v6);
  CHECK(v6->host == "2001:db8::1");
  CHECK(v6->to_host == "::1");
  const auto upper = ConnectTo::parse("FILES.trendmicro.com:80:127.0.0.1:8080");
  REQUIRE(upper);
  CHECK(upper->matches("files.trendmicro.com", 80));

  std::vector<ConnectTo> rules = {*all, *any};
  CHECK(find_connect_to(rules, "ds20.icrc.trendmicro.com", 443) == &rules[0]);
  CHECK(find_connect_to(rules, "x.example.com", 443) == &rules[1]);

  for (const char* bad : {"a:443", "a:443:b", "a:443:b:c:d", "a:x:b:1", "[::1:443:b:1", ""}) {
    INFO(bad);
    CHECK_FALSE(ConnectTo::parse(bad));
  }
}

TEST_CASE("durations", "[core][duration]") {
  using namespace std::chrono_literals;
  CHECK(parse_duration("10s") == 10s);
  CHECK(parse_duration("10") == 10s);
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("2d") == 48h);
  for (const char* bad : {"", "0", "-1s", "1x", "s", "1.5s", "400d"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }
}
