// The shipped catalog against the rows of the source document
// (shared/seed/000_b3a200201dfd5fbd.txt): every FQDN of every row, per role
// and version group, allowed where the page says and refused elsewhere.

#include "policy_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::policy;
using chokepoint::test::host_of;
using chokepoint::test::identity;
using chokepoint::test::words;

namespace {

struct CatalogRow {
  const char* host;   // a name the row allows (a sample name for wildcard rows)
  const char* roles;  // space-separated roles the row names as its source
  const char* group;  // version group, or "" for rows without one
  const char* ports;  // space-separated; "" = 80 443
  const char* path;   // for rows given with a path: the path a plain HTTP request uses
};

// One representative version per group of the page.
const char* version_of(const std::string& group) {
  if (group == "20.0+") return "20.0.1-183";
  if (group == "12.0") return "12.0.0-967";
  if (group == "11.0") return "11.3";
  if (group == "10.2-10.3") return "10.3";
  if (group == "10.0-10.1") return "10.1";
  if (group == "9.5-9.6") return "9.6";
  return "";
}
const char* another_group(const std::string& group) {
  return group == "20.0+" ? "12.0" : "20.0+";
}

const CatalogRow kRows[] = {
    // Download Center: Manager, Agent/Appliance, Relay.
    {"files.trendmicro.com", "manager agent relay", "", "", nullptr},
    // Smart Protection Network: CSSS (Manager).
    {"grid-global.trendmicro.com", "manager", "", "", nullptr},
    // Vision One (Manager), 443 only, wildcard rows.
    {"console.xdr.trendmicro.com", "manager", "", "443", nullptr},
    {"a.b.xbc.trendmicro.com", "manager", "", "443", nullptr},
    {"api.mgcp.trendmicro.com", "manager", "", "443", nullptr},
    {"x.manage.trendmicro.com", "manager", "", "443", nullptr},
    {"api.xdr.trendmicro.co.jp", "manager", "", "443", nullptr},
    // Global Census.
    {"ds2000-en-census.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds2000-jp-census.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds1200-en-census.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds1200-jp-census.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds1100-en-census.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds1100-jp-census.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds1020-en-census.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds1020-jp-census.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds1020-sc-census.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds1000-en.census.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"ds1000-jp.census.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"ds1000-sc.census.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"ds1000-tc.census.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    // Good File Reputation.
    {"deepsec20-en.gfrbridge.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"deepsec20-jp.gfrbridge.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"deepsec12-en.gfrbridge.trendmicro.com", "agent", "12.0", "", nullptr},
    {"deepsec12-jp.gfrbridge.trendmicro.com", "agent", "12.0", "", nullptr},
    {"deepsec11-en.gfrbridge.trendmicro.com", "agent", "11.0", "", nullptr},
    {"deepsec11-jp.gfrbridge.trendmicro.com", "agent", "11.0", "", nullptr},
    {"deepsec102-en.gfrbridge.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"deepsec102-jp.gfrbridge.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"deepsec10-en.grid-gfr.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"deepsec10-jp.grid-gfr.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"deepsec10-cn.grid-gfr.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    // Smart Feedback.
    {"ds200-en.fbs25.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds200-jp.fbs25.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds120-en.fbs25.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds120-jp.fbs25.trendmicro.com", "agent", "12.0", "", nullptr},
    {"deepsecurity1100-en.fbs25.trendmicro.com", "agent", "11.0", "", nullptr},
    {"deepsecurity1100-jp.fbs25.trendmicro.com", "agent", "11.0", "", nullptr},
    {"deepsecurity1000-en.fbs20.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"deepsecurity1000-jp.fbs20.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"deepsecurity1000-sc.fbs20.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    // Smart Scan.
    {"ds20.icrc.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds20-jp.icrc.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds120.icrc.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds120-jp.icrc.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds110.icrc.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds110-jp.icrc.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds102.icrc.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds102-jp.icrc.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds102-sc.icrc.trendmicro.com.cn", "agent", "10.2-10.3", "", nullptr},
    {"ds10.icrc.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"ds10-jp.icrc.trendmicro.com", "agent", "10.0-10.1", "", "/tmcss/query"},
    {"ds10-sc.icrc.trendmicro.com.cn", "agent", "10.0-10.1", "", "/tmcss/query"},
    {"iaufdbk.trendmicro.com", "agent", "9.5-9.6", "", nullptr},
    {"ds96.icrc.trendmicro.com", "agent", "9.5-9.6", "", nullptr},
    {"ds96-jp.icrc.trendmicro.com", "agent", "9.5-9.6", "", nullptr},
    {"ds96-sc.icrc.trendmicro.com.cn", "agent", "9.5-9.6", "", nullptr},
    {"ds95.icrc.trendmicro.com", "agent", "9.5-9.6", "", nullptr},
    {"ds95-jp.icrc.trendmicro.com", "agent", "9.5-9.6", "", nullptr},
    {"ds95-sc.icrc.trendmicro.com.cn", "agent", "9.5-9.6", "", nullptr},
    // Predictive Machine Learning.
    {"ds20-en-b.trx.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds20-jp-b.trx.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds20-en-f.trx.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds20-jp-f.trx.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds120-en-b.trx.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds120-jp-b.trx.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds120-en-f.trx.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds120-jp-f.trx.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds110-en-b.trx.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds110-jp-b.trx.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds110-en-f.trx.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds110-jp-f.trx.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds102-en-f.trx.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds102-jp-f.trx.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds102-sc-f.trx.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    // Web Reputation.
    {"ds20-0-en.url.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds20-0-jp.url.trendmicro.com", "agent", "20.0+", "", nullptr},
    {"ds12-0-en.url.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds12-0-jp.url.trendmicro.com", "agent", "12.0", "", nullptr},
    {"ds11-0-en.url.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds11-0-jp.url.trendmicro.com", "agent", "11.0", "", nullptr},
    {"ds10-2-en.url.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds10-2-sc.url.trendmicro.com.cn", "agent", "10.2-10.3", "", nullptr},
    {"ds10-2-jp.url.trendmicro.com", "agent", "10.2-10.3", "", nullptr},
    {"ds100-jp.url.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"ds100-sc.url.trendmicro.com", "agent", "10.0-10.1", "", nullptr},
    {"ds96-jp.url.trendmicro.com", "agent", "9.5-9.6", "", nullptr},
    {"ds95-jp.url.trendmicro.com", "agent", "9.5-9.6", "", nullptr},
    // Manager: help, licensing, news.
    {"help.deepsecurity.trendmicro.com", "manager", "", "", nullptr},
    {"success.trendmicro.com", "manager", "", "", "/product-support/deep-security/article"},
    {"licenseupdate.trendmicro.com", "manager", "", "", nullptr},
    {"clp.trendmicro.com", "manager", "", "", nullptr},
    {"olr.trendmicro.com", "manager", "", "", nullptr},
    {"news.deepsecurity.trendmicro.com", "manager", "", "", nullptr},
    // Site Safety: browsers.
    {"sitesafety.trendmicro.com", "browser", "", "", nullptr},
    {"jp.sitesafety.trendmicro.com", "browser", "", "", nullptr},
    // Update servers: Relay and Agent.
    {"iaus.activeupdate.trendmicro.com", "relay agent", "", "", nullptr},
    {"iaus.trendmicro.com", "relay agent", "", "", nullptr},
    {"ipv6-iaus.trendmicro.com", "relay agent", "", "", nullptr},
    {"ipv6-iaus.activeupdate.trendmicro.com", "relay agent", "", "", nullptr},
    // AWS endpoint families.
    {"ec2.us-east-1.amazonaws.com", "manager", "", "", nullptr},
    {"ec2.cn-north-1.amazonaws.com.cn", "manager", "", "", nullptr},
    {"sts.amazonaws.com", "manager", "", "", nullptr},
    {"sts.eu-west-1.amazonaws.com", "manager", "", "", nullptr},
    {"iam.amazonaws.com", "manager", "", "", nullptr},
    {"workspaces.ap-northeast-1.amazonaws.com", "manager", "", "", nullptr},
    // Azure.
    {"login.windows.net", "manager", "", "", nullptr},
    {"login.microsoftonline.com", "manager", "", "", nullptr},
    {"management.azure.com", "manager", "", "", nullptr},
    {"login.microsoftonline.us", "manager", "", "", nullptr},
    {"management.usgovcloudapi.net", "manager", "", "", nullptr},
    {"management.core.windows.net", "manager", "9.5-9.6", "", nullptr},
    // GCP.
    {"oauth2.googleapis.com", "manager", "", "", nullptr},
    {"googleapis.com", "manager", "", "", nullptr},
    {"cloudresourcemanager.googleapis.com", "manager", "", "", nullptr},
    // Telemetry and activation.
    {"telemetry.deepsecurity.trendmicro.com", "manager", "", "", nullptr},
    {"flywheel.xdr.trendmicro.com", "manager", "", "443", nullptr},
};

const char* const kRoles[] = {"agent", "relay", "manager", "api-client", "browser"};

bool role_in(const std::vector<std::string>& roles, const std::string& role) {
  // A relay is an agent: rows for agents are rows for relays.
  for (const auto& r : roles) {
    if (r == role || (r == "agent" && role == "relay")) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the built-in catalog loads cleanly", "[policy][catalog]") {
  const auto result = load_builtin_config();
  for (const auto& d : result.diagnostics())
    UNSCOPED_INFO(d.to_string());
  REQUIRE(result.ok());
  CHECK(result.diagnostics().empty());
  CHECK(result.value().policy.rules.size() >= 30);
  CHECK(result.value().policy.port_table.size() >= 25);
}

TEST_CASE("every row of the source document, per role and version", "[policy][catalog]") {
  const auto built = Snapshot::build(std::move(load_builtin_config()).value().policy);
  REQUIRE(built.ok());
  const Snapshot& s = *built.value();

  for (const auto& row : kRows) {
    const auto roles = words(row.roles);
    const auto ports = words(*row.ports ? row.ports : "80 443");
    const std::string group = row.group;
    const Host host = host_of(row.host);
    std::optional<std::string_view> path;
    if (row.path) path = row.path;

    for (const char* role : kRoles) {
      const bool allowed_role = role_in(roles, role);
      for (const auto& port_text : ports) {
        const auto port = static_cast<std::uint16_t>(std::stoi(port_text));
        INFO(row.host << ":" << port << " as " << role << " " << version_of(group));
        const Decision d = s.decide(host, port, identity(s, role, version_of(group)), path);
        CHECK(d.let_out() == allowed_role);
        if (!allowed_role) CHECK(d.reason == Reason::RoleNotAllowed);
      }
    }
    // With no version, the client gets every group; with another group's version, not this row.
    const Decision any_version = s.decide(host, 443, identity(s, roles[0]), path);
    CHECK(any_version.let_out() == (ports.size() == 2 || ports[0] == "443"));
    if (!group.empty()) {
      INFO(row.host << " as " << roles[0] << " " << version_of(another_group(group)));
      const Decision other =
          s.decide(host, 443, identity(s, roles[0], version_of(another_group(group))), path);
      CHECK_FALSE(other.let_out());
      CHECK(other.reason == Reason::VersionNotAllowed);
    }
    // Any role (the default for unknown clients) is every role.
    CHECK(s.decide(host, static_cast<std::uint16_t>(std::stoi(ports[0])), identity(s, ""), path)
              .let_out());
    // No row allows other ports.
    INFO(row.host << ":8443");
    CHECK(s.decide(host, 8443, identity(s, roles[0]), path).reason == Reason::PortNotAllowed);
  }
}

TEST_CASE("catalog edges the page calls out", "[policy][catalog]") {
  const auto s = Snapshot::build(std::move(load_builtin_config()).value().policy).value();
  const auto manager = identity(*s, "manager");
  const auto agent20 = identity(*s, "agent", "20.0");
  // Wildcard rows never match their apex.
  CHECK_FALSE(s->decide(host_of("xdr.trendmicro.com"), 443, manager).let_out());
  // Vision One rows are 443 only.
  CHECK(s->decide(host_of("console.xdr.trendmicro.com"), 80, manager).reason ==
        Reason::PortNotAllowed);
  // Paths: plain HTTP outside /tmcss/ is refused for hosts given with a path only.
  const auto agent10 = identity(*s, "agent", "10.0");
  CHECK(s->decide(host_of("ds10-jp.icrc.trendmicro.com"), 80, agent10, std::string_view("/other"))
            .reason == Reason::PathNotAllowed);
  CHECK(s->decide(host_of("ds10.icrc.trendmicro.com"), 80, agent10, std::string_view("/other"))
            .let_out());
  // A tunnel shows no path: the host decides.
  CHECK(s->decide(host_of("ds10-jp.icrc.trendmicro.com"), 443, agent10).let_out());
  // Names that look like catalog names but are not.
  for (const char* evil :
       {"evil.example.com", "trendmicro.com", "icrc.trendmicro.com",
        "ds20.icrc.trendmicro.com.evil.example", "ds21.icrc.trendmicro.com", "ec2.amazonaws.com",
        "s3.us-east-1.amazonaws.com", "storage.googleapis.com"}) {
    INFO(evil);
    CHECK_FALSE(s->decide(host_of(evil), 443, agent20).let_out());
    CHECK_FALSE(s->decide(host_of(evil), 443, identity(*s, "")).let_out());
  }
  // Placeholder rows are empty until the operator fills the variables in.
  CHECK_FALSE(s->decide(host_of("10.0.0.5"), 4120, identity(*s, "agent")).let_out());
}

TEST_CASE("placeholders filled by an operator file", "[policy][catalog]") {
  const auto s = test::snapshot_from(R"(version: 1
include: builtin:deep-security.yaml
variables:
  manager: [dsm.corp.example, 10.0.0.5]
  relays: [10.0.1.0/24]
  databases: [db.corp.example]
)",
                                     "site.yaml");
  const auto agent = identity(*s, "agent", "20.0");
  CHECK(s->decide(host_of("dsm.corp.example"), 4120, agent).let_out());
  CHECK(s->decide(host_of("dsm.corp.example"), 4119, agent).let_out());
  CHECK(s->decide(host_of("10.0.0.5"), 4120, agent).let_out());
  CHECK_FALSE(s->decide(host_of("dsm.corp.example"), 22, agent).let_out());
  CHECK(s->decide(host_of("10.0.1.7"), 4122, identity(*s, "relay")).let_out());
  CHECK(s->decide(host_of("10.0.1.7"), 4122, identity(*s, "manager")).let_out());
  CHECK(s->decide(host_of("db.corp.example"), 11500, identity(*s, "manager")).let_out());
  CHECK_FALSE(s->decide(host_of("db.corp.example"), 11500, agent).let_out());
  // The Manager's private address passes vetting for the roles and ports of its rule.
  CHECK(s->allows_address(*IpAddress::parse("10.0.0.5"), 4120, agent));
  CHECK_FALSE(s->allows_address(*IpAddress::parse("10.0.0.6"), 4120, agent));
  // API paths.
  const auto api = identity(*s, "api-client");
  CHECK(s->decide(host_of("dsm.corp.example"), 4119, api, std::string_view("/api/computers"))
            .let_out());
  CHECK_FALSE(
      s->decide(host_of("dsm.corp.example"), 4119, api, std::string_view("/admin")).let_out());
}
