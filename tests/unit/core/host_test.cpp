#include <catch2/catch.hpp>

#include <chokepoint/core/host.hpp>

using namespace chokepoint;

namespace {

struct HostCase {
  const char* name;
  const char* input;
  HostError error;
  HostKind kind;
  const char* canonical;
};

}  // namespace

TEST_CASE("normalize_host: canonical names, literals and refusals", "[core][host]") {
  const HostCase cases[] = {
      {"plain", "ds20.icrc.trendmicro.com", HostError::None, HostKind::Name,
       "ds20.icrc.trendmicro.com"},
      {"uppercase folded", "DS20.ICRC.TrendMicro.COM", HostError::None, HostKind::Name,
       "ds20.icrc.trendmicro.com"},
      {"one trailing dot removed", "files.trendmicro.com.", HostError::None, HostKind::Name,
       "files.trendmicro.com"},
      {"two trailing dots", "files.trendmicro.com..", HostError::EmptyLabel, HostKind::Name, ""},
      {"underscore tolerated", "_dmarc.example.com", HostError::None, HostKind::Name,
       "_dmarc.example.com"},
      {"a-label", "xn--bcher-kva.example", HostError::None, HostKind::Name,
       "xn--bcher-kva.example"},
      {"u-label refused",
       "b\xc3\xbc"
       "cher.example",
       HostError::NonAscii, HostKind::Name, ""},
      {"empty", "", HostError::Empty, HostKind::Name, ""},
      {"just a dot", ".", HostError::Empty, HostKind::Name, ""},
      {"leading dot", ".example.com", HostError::EmptyLabel, HostKind::Name, ""},
      {"double dot", "a..example.com", HostError::EmptyLabel, HostKind::Name, ""},
      {"space", "a b.example.com", HostError::BadCharacter, HostKind::Name, ""},
      {"nul", "a?b.com (with a NUL)", HostError::BadCharacter, HostKind::Name, ""},
      {"star", "*.example.com", HostError::BadCharacter, HostKind::Name, ""},
      {"ipv4", "192.0.2.7", HostError::None, HostKind::Ipv4, "192.0.2.7"},
      {"ipv4 trailing dot", "192.0.2.7.", HostError::None, HostKind::Ipv4, "192.0.2.7"},
      {"ipv4 leading zero", "192.0.2.07", HostError::NumericName, HostKind::Name, ""},
      {"short ipv4", "127.1", HostError::NumericName, HostKind::Name, ""},
      {"decimal integer", "2130706433", HostError::NumericName, HostKind::Name, ""},
      {"hex integer", "0x7f000001", HostError::NumericName, HostKind::Name, ""},
      {"hex last label", "a.0x10", HostError::NumericName, HostKind::Name, ""},
      {"numeric first label is fine", "4119.example.com", HostError::None, HostKind::Name,
       "4119.example.com"},
      {"ipv6", "2001:DB8::1", HostError::None, HostKind::Ipv6, "2001:db8::1"},
      {"ipv6 mapped", "::ffff:10.0.0.1", HostError::None, HostKind::Ipv6, "::ffff:10.0.0.1"},
      {"ipv6 zone", "fe80::1%eth0", HostError::BadIpv6, HostKind::Name, ""},
      {"ipv6 garbage", "2001:db8::g", HostError::BadIpv6, HostKind::Name, ""},
      {"label of 63", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
       HostError::None, HostKind::Name,
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"},
      {"label of 64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
       HostError::LabelTooLong, HostKind::Name, ""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Host host;
    // The nul case needs its explicit length.
    const std::string_view input = std::string_view(c.name) == "nul"
                                       ? std::string_view("a\0b.com", 7)
                                       : std::string_view(c.input);
    REQUIRE(normalize_host(input, host) == c.error);
    if (c.error == HostError::None) {
      CHECK(host.kind == c.kind);
      CHECK(host.name == c.canonical);
    }
  }
}

TEST_CASE("normalize_host: 253 characters is the limit", "[core][host]") {
  std::string name;
  while (name.size() < 240)
    name += "abcdefghi.";   // 240 characters
  name += "abcdefghijkl0";  // 253
  REQUIRE(name.size() == 253);
  Host host;
  CHECK(normalize_host(name, host) == HostError::None);
  CHECK(normalize_host(name + "x", host) == HostError::NameTooLong);
  // A trailing dot does not count.
  CHECK(normalize_host(name + ".", host) == HostError::None);
}

namespace {

struct AuthorityCase {
  const char* name;
  const char* input;
  std::uint16_t default_port;
  HostError error;
  const char* host;
  std::uint16_t port;
};

}  // namespace

TEST_CASE("parse_authority: CONNECT targets and Host headers", "[core][host]") {
  const AuthorityCase cases[] = {
      {"name and port", "ds20.icrc.trendmicro.com:443", 0, HostError::None,
       "ds20.icrc.trendmicro.com", 443},
      {"case folded", "FILES.trendmicro.com:80", 0, HostError::None, "files.trendmicro.com", 80},
      {"ipv4", "192.0.2.1:4119", 0, HostError::None, "192.0.2.1", 4119},
      {"bracketed ipv6", "[2001:db8::1]:443", 0, HostError::None, "2001:db8::1", 443},
      {"bracketed ipv6 uppercase", "[2001:DB8::A]:443", 0, HostError::None, "2001:db8::a", 443},
      {"unbracketed ipv6", "2001:db8::1:443", 0, HostError::BadIpv6, "", 0},
      {"bracketed ipv4", "[192.0.2.1]:443", 0, HostError::BadIpv6, "", 0},
      {"missing port", "files.trendmicro.com", 0, HostError::MissingPort, "", 0},
      {"default port", "files.trendmicro.com", 80, HostError::None, "files.trendmicro.com", 80},
      {"explicit port beats default", "files.trendmicro.com:8080", 80, HostError::None,
       "files.trendmicro.com", 8080},
      {"ipv6 default port", "[::1]", 80, HostError::None, "::1", 80},
      {"empty port", "files.trendmicro.com:", 0, HostError::BadPort, "", 0},
      {"port zero", "files.trendmicro.com:0", 0, HostError::BadPort, "", 0},
      {"port too big", "files.trendmicro.com:65536", 0, HostError::BadPort, "", 0},
      {"port max", "files.trendmicro.com:65535", 0, HostError::None, "files.trendmicro.com", 65535},
      {"port sign", "files.trendmicro.com:+443", 0, HostError::BadPort, "", 0},
      {"port with space", "files.trendmicro.com: 443", 0, HostError::BadPort, "", 0},
      {"port too long", "files.trendmicro.com:000443", 0, HostError::BadPort, "", 0},
      {"userinfo", "user:pw@files.trendmicro.com:443", 0, HostError::UserInfo, "", 0},
      {"path", "files.trendmicro.com:443/x", 0, HostError::HasPath, "", 0},
      {"query", "files.trendmicro.com:443?x", 0, HostError::HasPath, "", 0},
      {"empty host", ":443", 0, HostError::Empty, "", 0},
      {"empty", "", 0, HostError::Empty, "", 0},
      {"numeric shorthand", "127.1:443", 0, HostError::NumericName, "", 0},
      {"unterminated bracket", "[::1:443", 0, HostError::BadIpv6, "", 0},
      {"junk after bracket", "[::1]x443", 0, HostError::BadIpv6, "", 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Host host;
    std::uint16_t port = 0;
    REQUIRE(parse_authority(c.input, host, port, c.default_port) == c.error);
    if (c.error == HostError::None) {
      CHECK(host.name == c.host);
      CHECK(port == c.port);
    }
  }
}

TEST_CASE("format_authority brackets IPv6", "[core][host]") {
  Host host;
  std::uint16_t port = 0;
  REQUIRE(parse_authority("[2001:db8::1]:443", host, port) == HostError::None);
  CHECK(format_authority(host, port) == "[2001:db8::1]:443");
  REQUIRE(parse_authority("a.example.com:80", host, port) == HostError::None);
  CHECK(format_authority(host, port) == "a.example.com:80");
}
