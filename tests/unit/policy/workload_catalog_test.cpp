// The SaaS catalog (builtin:workload-security.yaml) against the facts of
// shared/seed/workload-security.md: every name, for every region, allowed
// for agents and relays in their own region on the ports listed, refused on
// other ports and in every other region; nothing regional before a site
// names its region; and the catalog included together with the on-premises
// one.

#include <algorithm>

#include "policy_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::policy;
using chokepoint::test::host_of;
using chokepoint::test::identity;
using chokepoint::test::words;

namespace {

const char* const kRegions[] = {"us-1", "ca-1", "de-1", "gb-1", "au-1",
                                "in-1", "jp-1", "sg-1", "ae-1"};

// The names of every region: NAME.workload.REGION.cloudone.trendmicro.com,
// agents and relays, 443 only ([fw], [ports] "Agents -> Server & Workload
// Protection 443").
const char* const kRegional[] = {
    "workload",   "agents",     "agents-001", "agents-002",   "agents-003", "agents-004",
    "agents-005", "agents-006", "agents-007", "agents-008",   "agents-009", "agents-010",
    "agent-comm", "dsmim",      "relay",      "xdr-resp-ioc", "gateway",    "gateway-control"};

// trend-us-1 lists these only.
const char* const kTrendUs1[] = {"workload",   "agents",     "relay",      "dsmim",
                                 "agents-001", "agents-002", "agents-003", "agents-004",
                                 "agents-005", "agents-006", "agents-007", "agents-008",
                                 "agents-009", "agents-010"};

struct GlobalRow {
  const char* host;
  const char* roles;  // the roles it is for (a relay is an agent)
  const char* ports;  // the ports listed
};

// The names for every region, and the older names.
const GlobalRow kGlobal[] = {
    // [fw] "All" regions: the Smart Protection Network, agents on 80 and 443.
    {"dsaas1100-en-census.trendmicro.com", "agent relay", "80 443"},
    {"ds200-en.fbs25.trendmicro.com", "agent relay", "80 443"},
    {"ds200-jp.fbs25.trendmicro.com", "agent relay", "80 443"},
    {"dsaas.icrc.trendmicro.com", "agent relay", "80 443"},
    {"dsaas-en-f.trx.trendmicro.com", "agent relay", "80 443"},
    {"dsaas-en-b.trx.trendmicro.com", "agent relay", "80 443"},
    {"deepsecaas11-en.gfrbridge.trendmicro.com", "agent relay", "80 443"},
    {"dsaas.url.trendmicro.com", "agent relay", "80 443"},
    // ActiveUpdate: relays on 80 and 443; the Download Center: relays on 443.
    {"iaus.activeupdate.trendmicro.com", "relay", "80 443"},
    {"iaus.trendmicro.com", "relay", "80 443"},
    {"ipv6-iaus.trendmicro.com", "relay", "80 443"},
    {"ipv6-iaus.activeupdate.trendmicro.com", "relay", "80 443"},
    {"files.trendmicro.com", "relay", "443"},
    // The service's names for every region and before regions.
    {"relay.deepsecurity.trendmicro.com", "agent relay", "443"},
    {"app.deepsecurity.trendmicro.com", "agent relay", "443"},
    {"agents.deepsecurity.trendmicro.com", "agent relay", "443"},
};

const char* const kRoles[] = {"agent", "relay", "api-client"};

bool listed(const std::string& list, const std::string& word) {
  const auto all = words(list);
  return std::find(all.begin(), all.end(), word) != all.end();
}

// "workload" is the service itself: workload.REGION.cloudone.trendmicro.com.
std::string regional(const std::string& name, const std::string& region) {
  const std::string base = "workload." + region + ".cloudone.trendmicro.com";
  return name == std::string("workload") ? base : name + "." + base;
}

std::string site(const std::string& regions) {
  return "version: 1\ninclude: builtin:workload-security.yaml\nvariables:\n"
         "  workload_security_region: [" +
         regions + "]\n";
}

// Ports other than the listed ones that a row must refuse.
constexpr std::uint16_t kOtherPorts[] = {80, 443, 4119, 4122, 8443};

}  // namespace

TEST_CASE("workload security: every regional name, every region", "[policy][catalog][saas]") {
  for (const char* region : kRegions) {
    const auto s = test::snapshot_from(site(region), "site.yaml");
    for (const char* name : kRegional) {
      for (const char* role : kRoles) {
        const auto who = identity(*s, role);
        const Host own = host_of(regional(name, region));
        INFO(regional(name, region) << " as " << role);
        // The API is the service's own name, for API clients too.
        const bool allowed = std::string(role) != "api-client" || std::string(name) == "workload";
        CHECK(s->decide(own, 443, who).let_out() == allowed);
        if (!allowed) CHECK(s->decide(own, 443, who).reason == Reason::RoleNotAllowed);
        for (const std::uint16_t port : kOtherPorts) {
          if (port == 443 || !allowed) continue;
          INFO("port " << port);
          CHECK(s->decide(own, port, who).reason == Reason::PortNotAllowed);
        }
        // Another region's name is nothing this site has.
        for (const char* other : kRegions) {
          if (std::string(other) == region) continue;
          INFO("other region " << other);
          const Decision d = s->decide(host_of(regional(name, other)), 443, who);
          CHECK_FALSE(d.let_out());
          CHECK(d.reason == Reason::NoMatchingRule);
        }
      }
      // The service's rule, named as Trend names it.
      const Decision d = s->decide(host_of(regional(name, region)), 443, identity(*s, "agent"));
      REQUIRE(d.match.rule);
      CHECK(d.match.rule->id == "ws-service");
      CHECK(d.match.rule->service == "Server & Workload Protection");
    }
    // API clients reach the API (plain HTTP shows the path; a tunnel does not).
    const auto api = identity(*s, "api-client");
    CHECK(s->decide(host_of(regional("workload", region)), 443, api, std::string_view("/api/x"))
              .let_out());
  }
}

TEST_CASE("workload security: the names of trend-us-1", "[policy][catalog][saas]") {
  const auto s = test::snapshot_from(site("trend-us-1"), "site.yaml");
  for (const char* name : kTrendUs1) {
    INFO(regional(name, "trend-us-1"));
    CHECK(s->decide(host_of(regional(name, "trend-us-1")), 443, identity(*s, "relay")).let_out());
    CHECK_FALSE(s->decide(host_of(regional(name, "us-1")), 443, identity(*s, "agent")).let_out());
  }
}

TEST_CASE("workload security: names for every region, and the older names",
          "[policy][catalog][saas]") {
  // Whatever the region, and with none.
  for (const std::string& text : {site("jp-1"), site("us-1"), site("")}) {
    const auto s = test::snapshot_from(text, "site.yaml");
    for (const auto& row : kGlobal) {
      for (const char* role : kRoles) {
        const bool for_role = listed(row.roles, role);
        for (const std::uint16_t port : kOtherPorts) {
          INFO(row.host << ":" << port << " as " << role << " in " << text);
          const Decision d = s->decide(host_of(row.host), port, identity(*s, role));
          const bool on_port = listed(row.ports, std::to_string(port));
          CHECK(d.let_out() == (for_role && on_port));
          if (for_role && !on_port) CHECK(d.reason == Reason::PortNotAllowed);
          if (!for_role && on_port) CHECK(d.reason == Reason::RoleNotAllowed);
        }
      }
    }
  }
}

TEST_CASE("workload security: nothing regional before the site names its region",
          "[policy][catalog][saas]") {
  const auto result = load_config_file(std::string(kWorkloadSecurityCatalogName));
  INFO(test::all_lines(result.diagnostics()));
  REQUIRE(result.ok());
  // `check` says so: one warning, at the variable in the catalog.
  REQUIRE(result.diagnostics().size() == 1);
  const std::string warning = result.diagnostics()[0].to_string();
  CHECK(warning.rfind("builtin:workload-security.yaml:", 0) == 0);
  CHECK(warning.find(": warning: variable 'workload_security_region' has no value, so the 19 "
                     "destinations whose names use it (rules ws-service, ws-api) allow nothing") !=
        std::string::npos);
  CHECK(result.value().policy.port_table.size() >= 15);

  const auto built = Snapshot::build(std::move(result).value().policy);
  REQUIRE(built.ok());
  const Snapshot& s = *built.value();
  for (const char* region : kRegions) {
    for (const char* name : kRegional) {
      INFO(regional(name, region));
      CHECK_FALSE(s.decide(host_of(regional(name, region)), 443, identity(s, "relay")).let_out());
    }
  }
  // With a region, quiet; with two (an account in each), both regions.
  const auto quiet = load_config_text(site("jp-1"), "site.yaml");
  REQUIRE(quiet.ok());
  CHECK(quiet.diagnostics().empty());
  const auto two = test::snapshot_from(site("jp-1, de-1"), "site.yaml");
  const auto agent = identity(*two, "agent");
  CHECK(two->decide(host_of(regional("agents", "jp-1")), 443, agent).let_out());
  CHECK(two->decide(host_of(regional("agents", "de-1")), 443, agent).let_out());
  CHECK_FALSE(two->decide(host_of(regional("agents", "us-1")), 443, agent).let_out());
  // A region that is not one label is refused in the site's file.
  const auto bad = load_config_text(site("jp-1.cloudone"), "site.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(test::all_lines(bad.diagnostics())
            .find("site.yaml:4:30: variable 'workload_security_region' stands "
                  "for one label") != std::string::npos);
}

TEST_CASE("both catalogs in one site: roles defined once, every rule of each",
          "[policy][catalog][saas]") {
  const auto result = load_config_text(R"(version: 1
include: [builtin:deep-security.yaml, builtin:workload-security.yaml]
default_role: agent
variables:
  workload_security_region: [jp-1]
  manager: [dsm.corp.example]
  relays: [10.0.1.0/24]
)",
                                       "site.yaml");
  INFO(test::all_lines(result.diagnostics()));
  REQUIRE(result.ok());
  CHECK(result.diagnostics().empty());
  const Policy& p = result.value().policy;
  CHECK(p.roles.size() == 5);  // agent, relay, manager, api-client, browser: once each
  const auto built = Snapshot::build(result.value().policy);
  REQUIRE(built.ok());
  const Snapshot& s = *built.value();
  const auto agent20 = identity(s, "agent", "20.0");
  CHECK(s.decide(host_of("ds20.icrc.trendmicro.com"), 443, agent20).let_out());
  CHECK(s.decide(host_of("dsm.corp.example"), 4120, agent20).let_out());
  CHECK(s.decide(host_of(regional("agents-007", "jp-1")), 443, agent20).let_out());
  CHECK_FALSE(s.decide(host_of(regional("agents-007", "us-1")), 443, agent20).let_out());
  // A relay of either edition reaches the site's relays and ActiveUpdate.
  CHECK(s.decide(host_of("10.0.1.7"), 4122, identity(s, "relay")).let_out());
  CHECK(s.decide(host_of("iaus.trendmicro.com"), 80, identity(s, "relay")).let_out());

  // Defined again differently, a role is still refused, naming the first.
  const auto differs = load_config_text(R"(version: 1
include: [builtin:deep-security.yaml]
roles:
  relay: {description: a relay, includes: [agent]}
)",
                                        "site.yaml");
  REQUIRE_FALSE(differs.ok());
  CHECK(test::all_lines(differs.diagnostics())
            .find("site.yaml:4:3: role 'relay' is already defined at "
                  "builtin:deep-security.yaml:") != std::string::npos);
  CHECK(test::all_lines(differs.diagnostics()).find("differently") != std::string::npos);
}

TEST_CASE("a site narrows the on-premises catalog's EC2 names to its own regions",
          "[policy][catalog][saas]") {
  // As policy/README.md shows it.
  const auto s = test::snapshot_from(R"yaml(version: 1
include: builtin:deep-security.yaml
variables:
  aws_regions: [us-east-1, eu-west-1]
rules:
  - id: aws-ec2-other-regions
    action: deny
    roles: [manager]
    destinations: [ec2.*.amazonaws.com, ec2-fips.*.amazonaws.com]
  - id: aws-ec2-our-regions
    service: "AWS: Amazon Elastic Compute Cloud (EC2)"
    roles: [manager]
    destinations: ["ec2.${aws_regions}.amazonaws.com", "ec2-fips.${aws_regions}.amazonaws.com"]
)yaml",
                                     "site.yaml");
  const auto manager = identity(*s, "manager");
  CHECK(s->decide(host_of("ec2.us-east-1.amazonaws.com"), 443, manager).let_out());
  CHECK(s->decide(host_of("ec2-fips.eu-west-1.amazonaws.com"), 443, manager).let_out());
  const Decision other = s->decide(host_of("ec2.ap-south-1.amazonaws.com"), 443, manager);
  CHECK_FALSE(other.let_out());
  CHECK(other.reason == Reason::RuleDenies);
  // Without the site's rules, the catalog allows every region.
  const auto plain =
      test::snapshot_from("version: 1\ninclude: builtin:deep-security.yaml\n", "site.yaml");
  CHECK(plain->decide(host_of("ec2.ap-south-1.amazonaws.com"), 443, identity(*plain, "manager"))
            .let_out());
}
