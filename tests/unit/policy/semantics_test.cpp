// DESIGN.md's policy semantics, one table row per rule of the contract.
#include "policy_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::policy;
using chokepoint::test::host_of;
using chokepoint::test::identity;
using chokepoint::test::snapshot_from;

namespace {

const char* const kPolicy = R"(
version: 1
roles:
  agent: {}
  relay: {includes: [agent]}
  manager: {}
version_groups:
  "20.0+": {min: "20.0"}
  "12.0": {min: "12.0", below: "20.0"}
clients:
  - {cidr: 10.0.0.0/8, role: manager}
  - {cidr: [10.1.0.0/16, "2001:db8:1::/48"], role: agent, version: "12.0.1-100"}
  - {user: relay01, role: relay, version: "20"}
rules:
  - id: exact
    destinations: [exact.example.com]
  - id: star
    destinations: ["*.star.example.com"]
  - id: dot
    destinations: [.dot.example.com]
  - id: middle
    destinations: [ec2.*.amazonaws.com]
  - id: star-deny-one
    action: deny
    destinations: [bad.star.example.com]
  - id: tie-allow
    destinations: [tie.example.com]
  - id: tie-deny
    action: deny
    destinations: [tie.example.com]
  - id: tie-log
    action: log
    destinations: [tie.example.com, logged.example.com]
  - id: prec-exact
    destinations: [ok.prec.example.com]
  - id: prec-glob
    action: deny
    destinations: ["*.prec.example.com"]
  - id: regex-allow
    destinations: ['re:[a-z0-9.]*\.prec2\.example\.com']
  - id: glob-deny
    action: deny
    destinations: ["*.prec2.example.com"]
  - id: one-wildcard-a
    destinations: ["*.w.example.com"]
  - id: one-wildcard-b
    action: deny
    destinations: ["x.*.example.com"]
  - id: more-literal
    action: deny
    destinations: ["*.deep.w.example.com"]
  - id: two-wildcards
    action: deny
    destinations: ["*.*.two.example.com"]
  - id: two-wildcards-less
    destinations: ["*.two.example.com"]
  - id: regex
    destinations: ['re:^api[0-9]+\.regex\.example\.com$']
  - id: ports
    ports: [8000-8100, 9000]
    destinations: [ports.example.com]
  - id: cidr-wide
    ports: [443]
    destinations: [192.0.2.0/24, "2001:db8:ff::/48"]
  - id: cidr-narrow
    action: deny
    ports: [443]
    destinations: [192.0.2.128/25]
  - id: private-manager
    roles: [agent]
    ports: [4119, 4120]
    destinations: [10.20.30.40]
  - id: managers-only
    roles: [manager]
    destinations: [manager-only.example.com]
  - id: agents-only
    roles: [agent]
    destinations: [agent-only.example.com]
  - id: by-version
    roles: [agent]
    destinations:
      "20.0+": [v20.example.com]
      "12.0": [v12.example.com]
  - id: path
    destinations: [http.example.com/updates/, both.example.com, both.example.com/x/]
)";

struct Row {
  const char* name;
  const char* host;
  std::uint16_t port;
  const char* path;  // nullptr: a tunnel (no path seen)
  const char* role;  // "" default role (any)
  const char* version;
  Action action;
  const char* rule;  // "" when no rule decides
  Reason reason;
};

}  // namespace

TEST_CASE("policy semantics", "[policy][semantics]") {
  const auto snapshot = snapshot_from(kPolicy);
  const Row rows[] = {
      {"exact matches itself", "exact.example.com", 443, nullptr, "", "", Action::Allow, "exact",
       Reason::RuleAllows},
      {"exact does not match a subdomain", "a.exact.example.com", 443, nullptr, "", "",
       Action::Deny, "", Reason::NoMatchingRule},
      {"case folded", "EXACT.Example.COM", 443, nullptr, "", "", Action::Allow, "exact",
       Reason::RuleAllows},
      {"trailing dot removed", "exact.example.com.", 80, nullptr, "", "", Action::Allow, "exact",
       Reason::RuleAllows},
      {"*. matches one label", "a.star.example.com", 443, nullptr, "", "", Action::Allow, "star",
       Reason::RuleAllows},
      {"*. matches several labels", "a.b.c.star.example.com", 443, nullptr, "", "", Action::Allow,
       "star", Reason::RuleAllows},
      {"*. never matches the apex", "star.example.com", 443, nullptr, "", "", Action::Deny, "",
       Reason::NoMatchingRule},
      {". matches the apex", "dot.example.com", 443, nullptr, "", "", Action::Allow, "dot",
       Reason::RuleAllows},
      {". matches below", "x.y.dot.example.com", 443, nullptr, "", "", Action::Allow, "dot",
       Reason::RuleAllows},
      {". is not a plain suffix", "xdot.example.com", 443, nullptr, "", "", Action::Deny, "",
       Reason::NoMatchingRule},
      {"middle * is one label", "ec2.us-east-1.amazonaws.com", 443, nullptr, "", "", Action::Allow,
       "middle", Reason::RuleAllows},
      {"middle * is not zero labels", "ec2.amazonaws.com", 443, nullptr, "", "", Action::Deny, "",
       Reason::NoMatchingRule},
      {"middle * is not two labels", "ec2.a.b.amazonaws.com", 443, nullptr, "", "", Action::Deny,
       "", Reason::NoMatchingRule},
      {"middle * glob has no lead", "x.ec2.us-east-1.amazonaws.com", 443, nullptr, "", "",
       Action::Deny, "", Reason::NoMatchingRule},
      {"exact beats wildcard", "bad.star.example.com", 443, nullptr, "", "", Action::Deny,
       "star-deny-one", Reason::RuleDenies},
      {"deny beats allow at equal specificity", "tie.example.com", 443, nullptr, "", "",
       Action::Deny, "tie-deny", Reason::RuleDenies},
      {"log is an allow that flags", "logged.example.com", 443, nullptr, "", "", Action::Log,
       "tie-log", Reason::RuleLogs},
      {"exact allow beats wildcard deny", "ok.prec.example.com", 443, nullptr, "", "",
       Action::Allow, "prec-exact", Reason::RuleAllows},
      {"wildcard deny applies beside it", "no.prec.example.com", 443, nullptr, "", "", Action::Deny,
       "prec-glob", Reason::RuleDenies},
      {"wildcard beats regex", "a.prec2.example.com", 443, nullptr, "", "", Action::Deny,
       "glob-deny", Reason::RuleDenies},
      {"equal wildcards and labels: deny wins", "x.w.example.com", 443, nullptr, "", "",
       Action::Deny, "one-wildcard-b", Reason::RuleDenies},
      {"one wildcard alone", "y.w.example.com", 443, nullptr, "", "", Action::Allow,
       "one-wildcard-a", Reason::RuleAllows},
      {"more literal labels win", "a.deep.w.example.com", 443, nullptr, "", "", Action::Deny,
       "more-literal", Reason::RuleDenies},
      {"fewer wildcards win", "a.b.two.example.com", 443, nullptr, "", "", Action::Allow,
       "two-wildcards-less", Reason::RuleAllows},
      {"regex whole-name match", "api42.regex.example.com", 443, nullptr, "", "", Action::Allow,
       "regex", Reason::RuleAllows},
      {"regex is anchored", "xapi42.regex.example.com", 443, nullptr, "", "", Action::Deny, "",
       Reason::NoMatchingRule},
      {"default ports 80", "exact.example.com", 80, nullptr, "", "", Action::Allow, "exact",
       Reason::RuleAllows},
      {"default ports not 8080", "exact.example.com", 8080, nullptr, "", "", Action::Deny, "",
       Reason::PortNotAllowed},
      {"port range low end", "ports.example.com", 8000, nullptr, "", "", Action::Allow, "ports",
       Reason::RuleAllows},
      {"port range high end", "ports.example.com", 8100, nullptr, "", "", Action::Allow, "ports",
       Reason::RuleAllows},
      {"port past range", "ports.example.com", 8101, nullptr, "", "", Action::Deny, "",
       Reason::PortNotAllowed},
      {"port in list", "ports.example.com", 9000, nullptr, "", "", Action::Allow, "ports",
       Reason::RuleAllows},
      {"cidr matches an ip literal", "192.0.2.10", 443, nullptr, "", "", Action::Allow, "cidr-wide",
       Reason::RuleAllows},
      {"longest prefix wins", "192.0.2.200", 443, nullptr, "", "", Action::Deny, "cidr-narrow",
       Reason::RuleDenies},
      {"cidr v6", "2001:db8:ff::9", 443, nullptr, "", "", Action::Allow, "cidr-wide",
       Reason::RuleAllows},
      {"v4-mapped v6 literal meets a v4 rule", "::ffff:192.0.2.10", 443, nullptr, "", "",
       Action::Allow, "cidr-wide", Reason::RuleAllows},
      {"cidr port", "192.0.2.10", 80, nullptr, "", "", Action::Deny, "", Reason::PortNotAllowed},
      {"hostname rule never matches an ip literal", "203.0.113.1", 443, nullptr, "", "",
       Action::Deny, "", Reason::NoMatchingRule},
      {"role allowed", "manager-only.example.com", 443, nullptr, "manager", "", Action::Allow,
       "managers-only", Reason::RuleAllows},
      {"role refused", "manager-only.example.com", 443, nullptr, "agent", "", Action::Deny, "",
       Reason::RoleNotAllowed},
      {"any is every role", "manager-only.example.com", 443, nullptr, "any", "", Action::Allow,
       "managers-only", Reason::RuleAllows},
      {"included role inherits", "agent-only.example.com", 443, nullptr, "relay", "", Action::Allow,
       "agents-only", Reason::RuleAllows},
      {"inclusion is one way", "agent-only.example.com", 443, nullptr, "manager", "", Action::Deny,
       "", Reason::RoleNotAllowed},
      {"version group 20", "v20.example.com", 443, nullptr, "agent", "20.0", Action::Allow,
       "by-version", Reason::RuleAllows},
      {"version as a build", "v20.example.com", 443, nullptr, "agent", "20.0.1-1234", Action::Allow,
       "by-version", Reason::RuleAllows},
      {"version as a major", "v20.example.com", 443, nullptr, "agent", "20", Action::Allow,
       "by-version", Reason::RuleAllows},
      {"other version group", "v20.example.com", 443, nullptr, "agent", "12.0", Action::Deny, "",
       Reason::VersionNotAllowed},
      {"no version: every group", "v12.example.com", 443, nullptr, "agent", "", Action::Allow,
       "by-version", Reason::RuleAllows},
      {"version in no group", "v12.example.com", 443, nullptr, "agent", "11.0", Action::Deny, "",
       Reason::VersionNotAllowed},
      {"version in no group, a destination for every version", "exact.example.com", 443, nullptr,
       "agent", "11.0", Action::Allow, "exact", Reason::RuleAllows},
      {"path prefix allows", "http.example.com", 80, "/updates/file.zip", "", "", Action::Allow,
       "path", Reason::RuleAllows},
      {"path prefix refuses", "http.example.com", 80, "/other", "", "", Action::Deny, "",
       Reason::PathNotAllowed},
      {"no path seen: host decides", "http.example.com", 443, nullptr, "", "", Action::Allow,
       "path", Reason::RuleAllows},
      {"bare entry beside a path entry", "both.example.com", 80, "/anything", "", "", Action::Allow,
       "path", Reason::RuleAllows},
      {"nothing matches", "evil.example.com", 443, nullptr, "", "", Action::Deny, "",
       Reason::NoMatchingRule},
  };
  for (const auto& row : rows) {
    INFO(row.name << ": " << row.host << ":" << row.port);
    const auto client = identity(*snapshot, row.role, row.version);
    std::optional<std::string_view> path;
    if (row.path) path = row.path;
    const Decision d = snapshot->decide(host_of(row.host), row.port, client, path);
    CHECK(to_string(d.action) == to_string(row.action));
    CHECK(d.rule_id() == row.rule);
    CHECK(to_string(d.reason) == to_string(row.reason));
    CHECK(d.enforced);
    CHECK(d.let_out() == (row.action != Action::Deny));
  }
}

TEST_CASE("clients map to roles by user, then longest CIDR, then the default",
          "[policy][clients]") {
  const auto snapshot = snapshot_from(kPolicy);
  const auto& p = snapshot->policy();
  const auto ip = [](const char* text) { return *IpAddress::parse(text); };

  const auto a = ip("10.1.2.3");
  auto c = snapshot->identify(&a, "");
  CHECK(p.role_name(c.role) == "agent");
  CHECK(c.version == Version::parse("12.0.1-100"));

  const auto b = ip("10.2.0.1");
  CHECK(p.role_name(snapshot->identify(&b, "").role) == "manager");

  const auto mapped = ip("::ffff:10.1.0.9");
  CHECK(p.role_name(snapshot->identify(&mapped, "").role) == "agent");

  const auto v6 = ip("2001:db8:1::5");
  CHECK(p.role_name(snapshot->identify(&v6, "").role) == "agent");

  const auto outside = ip("192.168.1.1");
  c = snapshot->identify(&outside, "");
  CHECK(c.role == kAnyRole);
  CHECK(c.roles == kEveryRole);

  c = snapshot->identify(&a, "relay01");
  CHECK(p.role_name(c.role) == "relay");
  CHECK(c.version == Version::parse("20.0"));
  CHECK(p.role_name(snapshot->identify(&a, "stranger").role) == "agent");
}

TEST_CASE("address vetting exceptions come from CIDR rules", "[policy][vetting]") {
  const auto snapshot = snapshot_from(kPolicy);
  const auto manager = *IpAddress::parse("10.20.30.40");
  CHECK(snapshot->allows_address(manager, 4120, identity(*snapshot, "agent")));
  CHECK(snapshot->allows_address(manager, 4119, identity(*snapshot, "relay")));
  CHECK_FALSE(snapshot->allows_address(manager, 443, identity(*snapshot, "agent")));
  CHECK_FALSE(snapshot->allows_address(manager, 4120, identity(*snapshot, "manager")));
  const auto denied = *IpAddress::parse("192.0.2.200");
  CHECK_FALSE(snapshot->allows_address(denied, 443, identity(*snapshot, "")));
}

TEST_CASE("audit mode lets denies out, unenforced", "[policy][audit]") {
  const auto snapshot = snapshot_from(std::string(kPolicy) + "mode: audit\n");
  const auto client = identity(*snapshot, "");
  const Decision evil = snapshot->decide(host_of("evil.example.com"), 443, client);
  CHECK(evil.action == Action::Deny);
  CHECK_FALSE(evil.enforced);
  CHECK(evil.let_out());
  const Decision ok = snapshot->decide(host_of("exact.example.com"), 443, client);
  CHECK(ok.enforced);
  CHECK(ok.let_out());
}

TEST_CASE("describe says why", "[policy][explain]") {
  const auto snapshot = snapshot_from(kPolicy);
  const auto agent = identity(*snapshot, "agent", "12.0");
  const auto host = host_of("v20.example.com");
  const Decision d = snapshot->decide(host, 443, agent);
  const std::string text = snapshot->describe(d, host, 443, agent);
  CHECK(text.find("by-version") != std::string::npos);
  CHECK(text.find("20.0+") != std::string::npos);
  const auto ports = host_of("ports.example.com");
  const Decision p = snapshot->decide(ports, 22, agent);
  CHECK(snapshot->describe(p, ports, 22, agent).find("8000-8100,9000") != std::string::npos);
}
