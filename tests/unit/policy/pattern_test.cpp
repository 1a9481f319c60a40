#include <catch2/catch.hpp>

#include <chokepoint/policy/pattern.hpp>
#include <chokepoint/policy/public_suffix.hpp>

using namespace chokepoint::policy;

TEST_CASE("patterns parse into their kinds", "[policy][pattern]") {
  std::string error;
  auto p = parse_host_pattern("ds20.icrc.trendmicro.com", error);
  REQUIRE(p);
  CHECK(p->kind == PatternKind::Exact);

  p = parse_host_pattern("*.xdr.trendmicro.com", error);
  REQUIRE(p);
  CHECK(p->kind == PatternKind::Glob);
  CHECK(p->lead == GlobLead::OneOrMore);
  CHECK(p->wildcards == 1);
  CHECK(glob_anchor(*p) == "xdr.trendmicro.com");

  p = parse_host_pattern(".trendmicro.com", error);
  REQUIRE(p);
  CHECK(p->lead == GlobLead::ZeroOrMore);
  CHECK(glob_anchor(*p) == "trendmicro.com");

  p = parse_host_pattern("ec2.*.amazonaws.com", error);
  REQUIRE(p);
  CHECK(p->lead == GlobLead::None);
  CHECK(p->wildcards == 1);
  CHECK(p->labels.size() == 4);
  CHECK(glob_anchor(*p) == "amazonaws.com");

  p = parse_host_pattern("re:^ds[0-9]+\\.icrc\\.trendmicro\\.com$", error);
  REQUIRE(p);
  CHECK(p->kind == PatternKind::Regex);

  p = parse_host_pattern("2001:db8::/32", error);
  REQUIRE(p);
  CHECK(p->kind == PatternKind::Cidr);
  p = parse_host_pattern("192.0.2.7", error);
  REQUIRE(p);
  CHECK(p->cidr.prefix_length() == 32);

  // Exact names that are public suffixes are fine: no wildcard spans owners.
  CHECK(parse_host_pattern("googleapis.com", error));
  CHECK(parse_host_pattern("xn--bcher-kva.example", error));
}

TEST_CASE("public suffix list algorithm", "[policy][psl]") {
  CHECK(public_suffix("www.example.com") == "com");
  CHECK(public_suffix("a.b.example.co.jp") == "co.jp");
  CHECK(public_suffix("trendmicro.com.cn") == "com.cn");
  CHECK(is_public_suffix("co.uk"));
  CHECK(is_public_suffix("googleapis.com"));
  CHECK_FALSE(is_public_suffix("trendmicro.com"));
  CHECK_FALSE(is_public_suffix("amazonaws.com"));
  // Wildcard rule *.compute.amazonaws.com.
  CHECK(is_public_suffix("x.compute.amazonaws.com"));
  // Unknown TLDs fall back to the last label.
  CHECK(public_suffix("a.b.notatld") == "notatld");
  CHECK(public_suffix("localhost") == "localhost");
}
