// Every class of bad input gets `file:line:column: message`, all of them.
#include <filesystem>
#include <fstream>

#include "policy_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::policy;

namespace {

struct BadCase {
  const char* name;
  const char* yaml;
  const char* where;    // "LINE:COL"
  const char* message;  // a substring of the message
};

std::string rule_with(const std::string& destination, const std::string& extra = "") {
  return "version: 1\nrules:\n  - id: r\n" + extra + "    destinations: [\"" + destination +
         "\"]\n";
}

bool has_diagnostic(const Diagnostics& diagnostics, const std::string& prefix,
                    const std::string& text) {
  for (const auto& d : diagnostics) {
    const std::string line = d.to_string();
    if (line.rfind(prefix, 0) == 0 && line.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("loader refuses bad input with file:line:column", "[policy][loader]") {
  const std::string bad_dest_rules[][3] = {
      {"bare star", "*", "would let every name out"},
      {"bare star dot", "*.", "would let every name out"},
      {"partial label", "a*.example.com", "partial-label wildcard"},
      {"partial label inside", "x.f*o.example.com", "partial-label wildcard"},
      {"star suffix", "*x.example.com", "partial-label wildcard"},
      {"wildcard under a TLD", "*.com", "public suffix 'com'"},
      {"wildcard under a 2LD suffix", "*.co.jp", "public suffix 'co.jp'"},
      {"dot form under a suffix", ".co.uk", "public suffix 'co.uk'"},
      {"middle wildcard over a TLD", "ec2.*.com", "public suffix 'com'"},
      {"wildcard on a private suffix", "*.googleapis.com", "public suffix 'googleapis.com'"},
      {"wildcard over wildcard suffixes", "*.compute.amazonaws.com", "every name directly under"},
      {"trailing wildcard", "example.*", "ends in a wildcard"},
      {"non-ascii",
       "b\xc3\xbc"
       "cher.example",
       "A-labels"},
      {"uppercase", "Files.TrendMicro.com", "write 'files.trendmicro.com'"},
      {"trailing dot", "files.trendmicro.com.", "write 'files.trendmicro.com'"},
      {"stray space", "* .xdr.trendmicro.com", "did you mean '*.xdr.trendmicro.com'"},
      {"bad regex", "re:((", "bad regular expression"},
      {"empty regex", "re:", "empty regular expression"},
      {"host bits", "10.0.0.1/8", "write 10.0.0.0/8"},
      {"bad prefix", "10.0.0.0/40", "bad prefix length"},
      {"short ip", "10.1", "not an IP address"},
      {"numeric name", "a.b.123", "numeric host"},
      {"bad character", "exa_mple!.com", "invalid character"},
      {"bad path", "files.trendmicro.com/a b", "bad path"},
      {"glob on an ip", "*.10.0.0.1", "cannot extend an IP address"},
  };
  for (const auto& [name, destination, message] : bad_dest_rules) {
    INFO(name);
    const auto result = load_config_text(rule_with(destination), "test.yaml");
    REQUIRE_FALSE(result.ok());
    INFO(test::all_lines(result.diagnostics()));
    CHECK(has_diagnostic(result.diagnostics(), "test.yaml:4:20: ", message));
  }

  const BadCase cases[] = {
      {"not a map", "- a\n", "1:1", "must be a map"},
      {"empty file", "", "1:1", "must be a map"},
      {"missing version", "mode: enforce\n", "1:1", "missing 'version: 1'"},
      {"wrong version", "version: 2\n", "1:10", "unsupported version '2'"},
      {"unknown top-level key", "version: 1\nfoo: 1\n", "2:1", "unknown key 'foo'"},
      {"duplicate key", "version: 1\nmode: enforce\nmode: audit\n", "3:1", "written twice"},
      {"yaml syntax", "version: 1\nrules: [\n  - a\n", "3:3", "illegal block entry"},
      {"bad mode", "version: 1\nmode: strict\n", "2:7", "'enforce' or 'audit'"},
      {"unknown default role", "version: 1\ndefault_role: robot\n", "2:15", "unknown role 'robot'"},
      {"redefined any", "version: 1\nroles:\n  any: {}\n", "3:3", "built in"},
      {"bad role name", "version: 1\nroles:\n  Agent: {}\n", "3:3", "bad role name"},
      {"unknown include of role", "version: 1\nroles:\n  relay: {includes: [agent]}\n", "3:22",
       "unknown role 'agent'"},
      {"unknown role key", "version: 1\nroles:\n  agent: {inherits: [x]}\n", "3:11",
       "unknown key 'inherits'"},
      {"empty version group", "version: 1\nversion_groups:\n  g: {min: \"20\", below: \"12\"}\n",
       "3:6", "is empty"},
      {"bad version", "version: 1\nversion_groups:\n  g: {min: \"v20\"}\n", "3:12",
       "bad version 'v20'"},
      {"group without min", "version: 1\nversion_groups:\n  g: {below: \"20\"}\n", "3:6",
       "needs 'min'"},
      {"unknown rule key", "version: 1\nrules:\n  - id: r\n    hosts: [a.example.com]\n", "4:5",
       "unknown key 'hosts'"},
      {"rule without id", "version: 1\nrules:\n  - destinations: [a.example.com]\n", "3:5",
       "needs an 'id'"},
      {"rule without destinations", "version: 1\nrules:\n  - id: r\n", "3:5",
       "needs 'destinations'"},
      {"bad rule id", "version: 1\nrules:\n  - id: \"Bad Id\"\n    destinations: [a.example.com]\n",
       "3:9", "bad rule id"},
      {"duplicate rule id",
       "version: 1\nrules:\n  - {id: r, destinations: [a.example.com]}\n  - {id: r, destinations: "
       "[b.example.com]}\n",
       "4:10", "already used at test.yaml:3:5"},
      {"bad action",
       "version: 1\nrules:\n  - {id: r, action: permit, destinations: [a.example.com]}\n", "3:21",
       "allow, deny or log"},
      {"port too big",
       "version: 1\nrules:\n  - {id: r, ports: [443, 65536], destinations: [a.example.com]}\n",
       "3:26", "bad port '65536'"},
      {"port zero", "version: 1\nrules:\n  - {id: r, ports: 0, destinations: [a.example.com]}\n",
       "3:20", "bad port '0'"},
      {"inverted range",
       "version: 1\nrules:\n  - {id: r, ports: 90-80, destinations: [a.example.com]}\n", "3:20",
       "bad port '90-80'"},
      {"port word",
       "version: 1\nrules:\n  - {id: r, ports: https, destinations: [a.example.com]}\n", "3:20",
       "bad port 'https'"},
      {"unknown role in rule",
       "version: 1\nrules:\n  - {id: r, roles: [robot], destinations: [a.example.com]}\n", "3:21",
       "unknown role 'robot'"},
      {"unknown version group",
       "version: 1\nrules:\n  - {id: r, versions: [\"30.0+\"], destinations: [a.example.com]}\n",
       "3:24", "unknown version group '30.0+'"},
      {"versions with grouped destinations",
       "version: 1\nversion_groups: {g: {min: \"1\"}}\nrules:\n  - id: r\n    versions: [g]\n    "
       "destinations: {g: [a.example.com]}\n",
       "5:15", "cannot be combined"},
      {"undefined variable", "version: 1\nrules:\n  - {id: r, destinations: [\"${manager}\"]}\n",
       "3:28", "undefined variable 'manager'"},
      {"variable mid-string",
       "version: 1\nvariables: {m: [a.example.com]}\nrules:\n  - {id: r, destinations: "
       "[\"x${m}\"]}\n",
       "4:28", "may only start"},
      {"bad variable value",
       "version: 1\nvariables:\n  m: [\"*.com\"]\nrules:\n  - {id: r, destinations: [\"${m}\"]}\n",
       "3:7", "public suffix 'com'"},
      {"empty destinations", "version: 1\nrules:\n  - {id: r, destinations: []}\n", "3:27",
       "at least one destination"},
      {"client both", "version: 1\nclients:\n  - {cidr: 10.0.0.0/8, user: u, role: any}\n", "3:5",
       "exactly one of"},
      {"client neither", "version: 1\nclients:\n  - {role: any}\n", "3:5", "exactly one of"},
      {"client bad cidr", "version: 1\nclients:\n  - {cidr: 10.0.0.0/33, role: any}\n", "3:12",
       "bad client cidr"},
      {"client bad version", "version: 1\nclients:\n  - {user: u, role: any, version: twenty}\n",
       "3:35", "bad version 'twenty'"},
      {"client unknown role", "version: 1\nclients:\n  - {user: u, role: robot}\n", "3:21",
       "unknown role 'robot'"},
      {"client without role", "version: 1\nclients:\n  - {user: u}\n", "3:5", "needs a 'role'"},
      {"client user with colon", "version: 1\nclients:\n  - {user: \"a:b\", role: any}\n", "3:12",
       "has no ':'"},
      {"client mapped twice",
       "version: 1\nclients:\n  - {cidr: 10.0.0.0/8, role: any}\n  - {cidr: 10.0.0.0/8, role: "
       "any}\n",
       "4:12", "already mapped at test.yaml:3:12"},
      {"port table component",
       "version: 1\nports:\n  - {component: robot, direction: inbound, ports: 1, service: s}\n",
       "3:17", "unknown component 'robot'"},
      {"port table direction",
       "version: 1\nroles: {agent: {}}\nports:\n  - {component: agent, direction: sideways, ports: "
       "1, service: s}\n",
       "4:35", "inbound or outbound"},
      {"port table protocol",
       "version: 1\nroles: {agent: {}}\nports:\n  - {component: agent, direction: inbound, ports: "
       "1, protocols: [sctp], service: s}\n",
       "4:66", "tcp or udp"},
      {"port table missing service",
       "version: 1\nroles: {agent: {}}\nports:\n  - {component: agent, direction: inbound, ports: "
       "1}\n",
       "4:5", "needs 'service'"},
      {"rules not a list", "version: 1\nrules: {id: r}\n", "2:8", "must be a list"},
      {"upstream proxy without port",
       "version: 1\nrules:\n  - {id: r, upstream_proxy: \"http://proxy.corp\", destinations: "
       "[a.example.com]}\n",
       "3:29", "port is missing"},
      {"upstream proxy over https",
       "version: 1\nrules:\n  - {id: r, upstream_proxy: \"https://proxy.corp:3128\", "
       "destinations: [a.example.com]}\n",
       "3:29", "https:// parents are not supported"},
      {"upstream proxy word",
       "version: 1\nrules:\n  - {id: r, upstream_proxy: none, destinations: [a.example.com]}\n",
       "3:29", "or direct, to bypass the parent"},
      {"inventory over http",
       "version: 1\ninventory: {url: \"http://dsm:4119/api\", key_file: k}\n", "2:18",
       "must begin with https://"},
      {"inventory url without path",
       "version: 1\ninventory: {url: \"https://dsm:4119\", key_file: k}\n", "2:18",
       "needs the API's path"},
      {"inventory url with user info",
       "version: 1\ninventory: {url: \"https://u@dsm:4119/api\", key_file: k}\n", "2:18",
       "needs a host"},
      {"inventory url with an empty port",
       "version: 1\ninventory: {url: \"https://dsm:/api\", key_file: k}\n", "2:18", "in 'dsm:'"},
      {"inventory url with a port out of range",
       "version: 1\ninventory: {url: \"https://dsm:99999/api\", key_file: k}\n", "2:18",
       "in 'dsm:99999'"},
      {"inventory url with IPv6 out of brackets",
       "version: 1\ninventory: {url: \"https://fd00::1:4119/api\", key_file: k}\n", "2:18",
       "in 'fd00::1:4119'"},
      {"inventory without key", "version: 1\ninventory: {url: \"https://dsm:4119/api\"}\n", "2:12",
       "needs key_file"},
      {"inventory auth",
       "version: 1\ninventory: {url: \"https://dsm/api\", key_file: k, auth: basic}\n", "2:56",
       "api-secret-key (on premises) or apikey"},
      {"inventory refresh too short",
       "version: 1\ninventory: {url: \"https://[fd00::1]:4119/api\", key_file: k, refresh: "
       "100ms}\n",
       "2:70", "refresh must be 1s or more"},
      {"inventory relay names",
       "version: 1\ninventory: {url: \"https://dsm/api\", key_file: k, "
       "relay_host_names: [\"re:dsr.*\"]}\n",
       "2:69", "takes names and globs"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto result = load_config_text(c.yaml, "test.yaml");
    REQUIRE_FALSE(result.ok());
    INFO(test::all_lines(result.diagnostics()));
    CHECK(has_diagnostic(result.diagnostics(), std::string("test.yaml:") + c.where + ": ",
                         c.message));
  }
}

TEST_CASE("loader reports every problem, not just the first", "[policy][loader]") {
  const auto result = load_config_text(R"(version: 1
rules:
  - {id: a, destinations: ["*"]}
  - {id: b, ports: 70000, destinations: [ok.example.com]}
  - {id: c, roles: [robot], destinations: [ok.example.com]}
  - {id: d, destinations: ["*.co.jp"]}
)",
                                       "many.yaml");
  REQUIRE_FALSE(result.ok());
  CHECK(result.diagnostics().size() == 4);
  CHECK(has_diagnostic(result.diagnostics(), "many.yaml:3:", "every name"));
  CHECK(has_diagnostic(result.diagnostics(), "many.yaml:4:", "70000"));
  CHECK(has_diagnostic(result.diagnostics(), "many.yaml:5:", "robot"));
  CHECK(has_diagnostic(result.diagnostics(), "many.yaml:6:", "co.jp"));
}

TEST_CASE("duplicate destinations are a warning, not an error", "[policy][loader]") {
  const auto result = load_config_text(
      "version: 1\nrules:\n  - {id: r, destinations: [a.example.com, a.example.com]}\n", "w.yaml");
  REQUIRE(result.ok());
  REQUIRE(result.diagnostics().size() == 1);
  CHECK(result.diagnostics()[0].to_string() ==
        "w.yaml:3:43: warning: duplicate destination 'a.example.com' in rule 'r' (first at "
        "w.yaml:3:28)");
  CHECK(result.value().policy.rules[0].destinations.size() == 1);
}

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("chokepoint-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }
};

}  // namespace

TEST_CASE("includes: relative paths, overrides, additions", "[policy][loader][include]") {
  TempDir dir;
  dir.write("catalog/base.yaml", R"(version: 1
mode: enforce
roles: {agent: {}, manager: {}}
variables:
  manager: []
rules:
  - id: manager-channel
    roles: [agent]
    ports: [4120]
    destinations: ["${manager}"]
  - id: public
    destinations: [files.trendmicro.com]
)");
  const auto site = dir.write("site.yaml", R"(version: 1
include: [catalog/base.yaml]
mode: audit
default_role: agent
variables:
  manager: [dsm.corp.example, 10.0.0.5]
clients:
  - {cidr: 10.1.0.0/16, role: manager}
)");
  const auto result = load_config_file(site);
  INFO(test::all_lines(result.diagnostics()));
  REQUIRE(result.ok());
  const Policy& p = result.value().policy;
  CHECK(p.files.size() == 2);
  CHECK(p.mode == Mode::Audit);
  CHECK(p.role_name(p.default_role) == "agent");
  REQUIRE(p.rules.size() == 2);
  REQUIRE(p.rules[0].destinations.size() == 2);
  CHECK(p.rules[0].destinations[0].pattern.text == "dsm.corp.example");
  CHECK(p.rules[0].destinations[1].pattern.kind == PatternKind::Cidr);
  CHECK(p.clients.size() == 1);
}

TEST_CASE("includes: problems point into the right file", "[policy][loader][include]") {
  TempDir dir;
  const auto base =
      dir.write("base.yaml", "version: 1\nrules:\n  - {id: r, destinations: [\"*.com\"]}\n");
  const auto site = dir.write(
      "site.yaml",
      "version: 1\ninclude: base.yaml\nrules:\n  - {id: r, destinations: [a.example.com]}\n");
  auto result = load_config_file(site);
  REQUIRE_FALSE(result.ok());
  INFO(test::all_lines(result.diagnostics()));
  CHECK(has_diagnostic(result.diagnostics(), base + ":3:28: ", "public suffix"));
  CHECK(has_diagnostic(result.diagnostics(), site + ":4:10: ", "already used at " + base + ":3:5"));

  const auto missing = dir.write("missing.yaml", "version: 1\ninclude: [nope.yaml]\n");
  result = load_config_file(missing);
  REQUIRE_FALSE(result.ok());
  CHECK(has_diagnostic(result.diagnostics(), missing + ":2:11: ", "cannot read"));

  dir.write("a.yaml", "version: 1\ninclude: [b.yaml]\n");
  const auto b = dir.write("b.yaml", "version: 1\ninclude: [a.yaml]\n");
  result = load_config_file(dir.path / "a.yaml");
  REQUIRE_FALSE(result.ok());
  INFO(test::all_lines(result.diagnostics()));
  CHECK(has_diagnostic(result.diagnostics(), b + ":2:11: ", "include cycle"));

  result = load_config_file((dir.path / "absent.yaml").string());
  REQUIRE_FALSE(result.ok());
  CHECK(result.diagnostics()[0].to_string().find("absent.yaml: cannot read") != std::string::npos);
}

TEST_CASE("includes: the built-in catalog by name", "[policy][loader][include]") {
  const auto result = load_config_text(R"(version: 1
include: builtin:deep-security.yaml
default_role: agent
variables:
  manager: [10.0.0.5]
)",
                                       "site.yaml");
  INFO(test::all_lines(result.diagnostics()));
  REQUIRE(result.ok());
  CHECK(result.value().policy.files[0] == "site.yaml");
  CHECK(result.value().policy.files[1] == "builtin:deep-security.yaml");
}

TEST_CASE("pac: fallback and proxy, the including file overrides", "[policy][loader][pac]") {
  auto result = load_config_text("version: 1\n", "empty.yaml");
  REQUIRE(result.ok());
  CHECK(result.value().policy.pac.fallback == PacFallback::Direct);
  CHECK(result.value().policy.pac.proxy.empty());

  TempDir dir;
  dir.write("base.yaml", "version: 1\npac: {fallback: PROXY, proxy: base.example:3128}\n");
  const auto site = dir.write(
      "site.yaml", "version: 1\ninclude: base.yaml\npac:\n  proxy: \"[2001:DB8::5]:8080\"\n");
  result = load_config_file(site);
  INFO(test::all_lines(result.diagnostics()));
  REQUIRE(result.ok());
  const PacSettings& pac = result.value().policy.pac;
  CHECK(pac.fallback == PacFallback::Proxy);  // from the included file
  CHECK(pac.proxy == "[2001:db8::5]:8080");   // normalised, from the including file
  CHECK(pac.pos.line == 4);

  const struct {
    const char* yaml;
    const char* where;
    const char* message;
  } bad[] = {
      {"version: 1\npac: {fallback: direct}\n", "test.yaml:2:17: ", "DIRECT or PROXY"},
      {"version: 1\npac: {proxy: proxy.example}\n", "test.yaml:2:14: ", "HOST:PORT"},
      {"version: 1\npac: {proxy: 'a\"b:3128'}\n", "test.yaml:2:14: ", "HOST:PORT"},
      {"version: 1\npac: {proxy: [a, b]}\n", "test.yaml:2:14: ", "pac.proxy"},
      {"version: 1\npac: {fallbak: PROXY}\n", "test.yaml:2:7: ", "fallbak"},
      {"version: 1\npac: DIRECT\n", "test.yaml:2:6: ", "pac"},
  };
  for (const auto& [yaml, where, message] : bad) {
    INFO(yaml);
    const auto refused = load_config_text(yaml, "test.yaml");
    REQUIRE_FALSE(refused.ok());
    INFO(test::all_lines(refused.diagnostics()));
    CHECK(has_diagnostic(refused.diagnostics(), where, message));
  }
}

TEST_CASE("a rule's upstream_proxy: a parent, or direct", "[policy][loader]") {
  const auto result = load_config_text(R"(version: 1
rules:
  - {id: parent, upstream_proxy: "http://svc%40corp:p@ss@proxy.corp.example:8080/", destinations: [a.example.com]}
  - {id: direct, upstream_proxy: direct, destinations: [b.example.com]}
  - {id: default, destinations: [c.example.com]}
)",
                                       "test.yaml");
  INFO(test::all_lines(result.diagnostics()));
  REQUIRE(result.ok());
  const auto& rules = result.value().policy.rules;
  REQUIRE(rules.size() == 3);
  REQUIRE(rules[0].upstream_proxy);
  CHECK(rules[0].upstream_proxy->to_string() == "proxy.corp.example:8080");
  CHECK(rules[0].upstream_proxy->user == "svc@corp");
  CHECK(rules[0].upstream_proxy->password == "p@ss");
  CHECK_FALSE(rules[0].upstream_direct);
  CHECK_FALSE(rules[1].upstream_proxy);
  CHECK(rules[1].upstream_direct);
  CHECK_FALSE(rules[2].upstream_proxy);
  CHECK_FALSE(rules[2].upstream_direct);
}
