#include <catch2/catch.hpp>

#include <chokepoint/net/resolv_conf.hpp>

using namespace chokepoint::net;
using namespace std::chrono_literals;

TEST_CASE("glibc's timeout and attempts options", "[net][resolv_conf]") {
  ResolvTiming t = parse_resolv_timing("nameserver 10.0.0.2\nsearch corp.example\n", "");
  CHECK(t.timeout == 5s);  // glibc's defaults
  CHECK(t.attempts == 2);
  t = parse_resolv_timing("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", "");
  CHECK(t.timeout == 1s);
  CHECK(t.attempts == 1);
  t = parse_resolv_timing("options rotate timeout:3\noptions\tattempts:4 ndots:2\n", "");
  CHECK(t.timeout == 3s);
  CHECK(t.attempts == 4);
  t = parse_resolv_timing("options timeout:90 attempts:9\n", "");  // cut as glibc cuts them
  CHECK(t.timeout == 30s);
  CHECK(t.attempts == 5);
  t = parse_resolv_timing("options timeout:2\n", "timeout:7");  // RES_OPTIONS wins
  CHECK(t.timeout == 7s);
  t = parse_resolv_timing("#options timeout:1\noptionsx timeout:1\noptions timeout:x\n", "");
  CHECK(t.timeout == 5s);
}
