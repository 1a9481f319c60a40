// The PAC generator's contract for the server that serves it: which proxy
// address it names, and what reaches the script. The engine's answers are
// checked against `chokepoint explain` in tests/e2e/test_pac.py.
#include <catch2/catch.hpp>

#include <chokepoint/pac/pac_file.hpp>
#include <chokepoint/policy/loader.hpp>

using namespace chokepoint;

namespace {

policy::Policy policy_from(const std::string& yaml) {
  auto loaded = policy::load_config_text(yaml, "test.yaml");
  for (const auto& d : loaded.diagnostics())
    UNSCOPED_INFO(d.to_string());
  REQUIRE(loaded.ok());
  return std::move(loaded).value().policy;
}

}  // namespace

TEST_CASE("choose_proxy: pac.proxy, else the Host the client used", "[pac]") {
  const auto plain = policy_from("version: 1\n");
  const struct {
    const char* host_header;
    std::uint16_t listener_port;
    const char* expected;  // "" for refused
  } cases[] = {
      {"chokepoint.corp.example:3128", 3128, "chokepoint.corp.example:3128"},
      {"Chokepoint.Corp.Example.", 8080, "chokepoint.corp.example:8080"},  // port from the listener
      {"10.0.0.9", 3128, "10.0.0.9:3128"},
      {"[2001:db8::9]:3129", 3128, "[2001:db8::9]:3129"},
      {"", 3128, ""},
      {"a\"b:3128", 3128, ""},
      {"a.example:99999", 3128, ""},
      {"user@a.example:3128", 3128, ""},
      {"a.example:3128/x", 3128, ""},
  };
  for (const auto& c : cases) {
    INFO(c.host_header);
    const auto chosen = pac::choose_proxy(plain, c.host_header, c.listener_port);
    if (*c.expected == '\0') {
      CHECK_FALSE(chosen);
    } else {
      REQUIRE(chosen);
      CHECK(chosen->to_string() == c.expected);
    }
  }
  const auto fixed = policy_from("version: 1\npac: {proxy: 'proxy.corp.example:3128'}\n");
  const auto chosen = pac::choose_proxy(fixed, "whatever.example:1", 1);
  REQUIRE(chosen);
  CHECK(chosen->to_string() == "proxy.corp.example:3128");
}

TEST_CASE("generate_pac: directives, re: rules in the header, no DNS", "[pac]") {
  const auto p = policy_from(R"(version: 1
rules:
  - id: names
    destinations: [files.example.com, "*.xdr.example.com", ec2.*.amazonaws.com, .example.org]
  - id: pattern
    destinations: ["re:^cdn[0-9]+\\.example\\.net$"]
  - id: blocks
    ports: [4122]
    destinations: [10.0.1.0/24, "2001:db8:1::/48"]
)");
  pac::ProxyAddress proxy;
  REQUIRE(parse_authority("[2001:db8::1]:3128", proxy.host, proxy.port) == HostError::None);
  const std::string text = pac::generate_pac(p, proxy, policy::PacFallback::Direct);
  CHECK(text.find("var chokepointProxy = \"PROXY [2001:db8::1]:3128\";") != std::string::npos);
  CHECK(text.find("var chokepointFallback = \"DIRECT\";") != std::string::npos);
  const auto header = text.substr(0, text.find("\nvar "));
  CHECK(header.find("rule pattern: re:^cdn[0-9]+\\.example\\.net$") != std::string::npos);
  CHECK(text.find("\".files.example.com\": [[[80,80,443,443],\"\"]]") != std::string::npos);
  CHECK(text.find("[\"10.0.1.0\", \"255.255.255.0\", [[[4122,4122],\"\"]]]") != std::string::npos);
  CHECK(text.find("[8193,3512,1,0,0,0,0,0], 48") != std::string::npos);
  // A PAC engine resolves names in dnsResolve and isResolvable, and in
  // isInNet when it is given a name: the script calls none of them on a name.
  CHECK(text.find("dnsResolve") == std::string::npos);
  CHECK(text.find("isResolvable") == std::string::npos);
  CHECK(pac::generate_pac(p, proxy, policy::PacFallback::Direct) == text);  // deterministic

  const std::string proxied = pac::generate_pac(p, proxy, policy::PacFallback::Proxy);
  CHECK(proxied.find("var chokepointFallback = \"PROXY [2001:db8::1]:3128\";") !=
        std::string::npos);
}
