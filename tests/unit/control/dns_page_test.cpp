// GET /dns: the cache's counters and its names, the most looked-up first.
#include "control/dns_page.hpp"

#include <catch2/catch.hpp>

using namespace chokepoint;
using namespace chokepoint::control;

TEST_CASE("/dns: the most looked-up names first, their addresses and TTLs", "[control][admin]") {
  DnsPage page;
  page.stats.lookups = 9;
  page.stats.hits = 6;
  page.stats.misses = 3;
  page.stats.queries = 4;
  net::DnsCacheItem rare;
  rare.name = "gone.example";
  rare.status = net::DnsStatus::NotFound;
  rare.ttl_left_ms = -1500;
  rare.hits = 1;
  net::DnsCacheItem busy;
  busy.name = "ds20.icrc.trendmicro.com";
  busy.addresses = {*IpAddress::parse("203.0.113.40"), *IpAddress::parse("2001:db8::40")};
  busy.ttl_left_ms = 299'999;
  busy.hits = 5;
  page.names = {rare, busy};
  CHECK(render_dns(page) ==
        R"({"names":2,"listed":2,"lookups":9,"hits":6,"misses":3,"queries":4,"entries":[)"
        R"({"name":"ds20.icrc.trendmicro.com","status":"addresses",)"
        R"("addresses":["203.0.113.40","2001:db8::40"],"ttl_left_s":299,"hits":5},)"
        "\n"
        R"({"name":"gone.example","status":"nxdomain","addresses":[],"ttl_left_s":-1,"hits":1}]})"
        "\n");
}

TEST_CASE("/dns: at most kDnsListed names, all of them counted", "[control][admin]") {
  DnsPage page;
  for (std::size_t i = 0; i < kDnsListed + 5; ++i) {
    net::DnsCacheItem item;
    item.name = "n" + std::to_string(i) + ".example";
    item.hits = i;
    page.names.push_back(item);
  }
  const std::string json = render_dns(page);
  CHECK(json.rfind(R"({"names":1005,"listed":1000,)", 0) == 0);
  CHECK(json.find(R"("name":"n1004.example")") != std::string::npos);  // the busiest
  CHECK(json.find(R"("name":"n4.example")") == std::string::npos);     // the five least
  CHECK(json.find(R"("name":"n5.example")") != std::string::npos);
}
