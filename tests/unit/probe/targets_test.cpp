// Which destinations `chokepoint probe` tests: the concrete ones a role may
// reach, each as the proxy would decide it; the rest listed with a reason.
#include <algorithm>

#include <chokepoint/config/config_file.hpp>
#include <chokepoint/probe/targets.hpp>

#include "../policy/policy_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::identity;
using chokepoint::test::snapshot_from;

namespace {

const char* const kPolicy = R"(
version: 1
default_role: agent
roles:
  agent: {}
  relay: {includes: [agent]}
  manager: {}
version_groups:
  "20.0+": {min: "20.0"}
  "12.0": {min: "12.0", below: "20.0"}
rules:
  - id: smart-scan
    service: Smart Scan
    roles: [agent]
    ports: [443]
    destinations:
      "20.0+": [ds20.icrc.example.com]
      "12.0": [ds120.icrc.example.com]
  - id: updates
    service: ActiveUpdate
    roles: [relay]
    destinations: [iaus.example.com]
  - id: updates-again
    service: ActiveUpdate mirror
    roles: [relay]
    ports: [80]
    destinations: [iaus.example.com]
  - id: wild
    service: Vision One
    roles: [agent]
    ports: [443]
    destinations: ["*.xdr.example.com", "re:^api[0-9]+\\.example\\.com$", ec2.*.amazonaws.com, .dot.example.com]
  - id: database
    service: Database
    roles: [manager]
    ports: [1433, 11000-11999, 5432-5433]
    destinations: [db.example.com, 192.0.2.10, 192.0.2.0/24]
  - id: denied
    action: deny
    roles: [agent]
    destinations: [blocked.icrc.example.com]
  - id: allowed-wide
    roles: [agent]
    ports: [443]
    destinations: [blocked.icrc.example.com, path.example.com/tmcss/]
  - id: path-plain
    service: Old Smart Scan
    roles: [agent]
    ports: [80]
    destinations: [path.example.com/tmcss/]
)";

std::vector<std::string> names(const std::vector<probe::Target>& targets, bool probed) {
  std::vector<std::string> out;
  for (const auto& t : targets) {
    if (t.not_probed.empty() == probed) out.push_back(t.host.name + ":" + t.ports);
  }
  return out;
}

const probe::Target& find(const std::vector<probe::Target>& targets, const std::string& name) {
  const auto it = std::find_if(targets.begin(), targets.end(), [&](const probe::Target& t) {
    return t.host.name + ":" + t.ports == name;
  });
  REQUIRE(it != targets.end());
  return *it;
}

}  // namespace

TEST_CASE("probe targets: the role's concrete destinations, versions, ports", "[probe]") {
  const auto s = snapshot_from(kPolicy);

  SECTION("an agent of unknown version: every version's names, the wildcards not probed") {
    const auto t = probe::targets(*s, identity(*s, "agent"));
    CHECK(names(t, true) ==
          std::vector<std::string>{"ds20.icrc.example.com:443", "ds120.icrc.example.com:443",
                                   "path.example.com:443", "path.example.com:80"});
    CHECK(names(t, false) ==
          std::vector<std::string>{"*.xdr.example.com:443", "re:^api[0-9]+\\.example\\.com$:443",
                                   "ec2.*.amazonaws.com:443", ".dot.example.com:443"});
    CHECK(find(t, "*.xdr.example.com:443").not_probed == "a wildcard names no one host to probe");
    CHECK(find(t, "re:^api[0-9]+\\.example\\.com$:443").not_probed.find("regular expression") !=
          std::string::npos);
    CHECK(find(t, "ec2.*.amazonaws.com:443").not_probed.find("wildcard label") !=
          std::string::npos);
    const auto& scan = find(t, "ds20.icrc.example.com:443");
    CHECK(scan.tls);
    CHECK(scan.rule_id() == "smart-scan");
    CHECK(scan.versions == "20.0+");
    CHECK(probe::what_breaks(scan) == "Smart Scan (agents 20.0+)");
    // Decided as the proxy decides: a deny more specific than an allow keeps
    // a name out (blocked.icrc); a path restricts plain HTTP only, so a
    // tunnel to a name given with a path is let out (and probed), and the
    // plain port is decided under the path.
    CHECK(find(t, "path.example.com:443").rule_id() == "allowed-wide");
    CHECK_FALSE(find(t, "path.example.com:80").tls);
    CHECK(find(t, "path.example.com:80").rule_id() == "path-plain");
  }

  SECTION("a version picks its group's names only") {
    const auto t = probe::targets(*s, identity(*s, "agent", "12.0.1"));
    CHECK(names(t, true) == std::vector<std::string>{"ds120.icrc.example.com:443",
                                                     "path.example.com:443",
                                                     "path.example.com:80"});
  }

  SECTION("a relay includes the agent's; each host and port once") {
    const auto t = probe::targets(*s, identity(*s, "relay", "20.0"));
    CHECK(names(t, true) == std::vector<std::string>{"ds20.icrc.example.com:443",
                                                     "iaus.example.com:80", "iaus.example.com:443",
                                                     "path.example.com:443",
                                                     "path.example.com:80"});
    CHECK(probe::what_breaks(find(t, "iaus.example.com:443")) == "ActiveUpdate");
  }

  SECTION("addresses and small port ranges are concrete; wide ranges and CIDRs are not") {
    const auto t = probe::targets(*s, identity(*s, "manager"));
    CHECK(names(t, true) == std::vector<std::string>{"db.example.com:1433", "db.example.com:5432",
                                                     "db.example.com:5433", "192.0.2.10:1433",
                                                     "192.0.2.10:5432", "192.0.2.10:5433"});
    CHECK(find(t, "192.0.2.10:1433").host.is_ip());
    CHECK_FALSE(find(t, "db.example.com:1433").tls);
    CHECK(find(t, "db.example.com:11000-11999").not_probed ==
          "a port range names no one port to probe");
    CHECK(find(t, "192.0.2.0/24:1433").not_probed ==
          "an address range names no one address to probe");
  }
}

TEST_CASE("probe targets: TLS ports", "[probe]") {
  for (const int port : {443, 4118, 4119, 4120, 4122, 5275})
    CHECK(probe::is_tls_port(static_cast<std::uint16_t>(port)));
  for (const int port : {80, 5274, 1433, 8080})
    CHECK_FALSE(probe::is_tls_port(static_cast<std::uint16_t>(port)));
}

TEST_CASE("probe targets: the built-in catalog for a relay", "[probe]") {
  auto loaded = config::load_builtin_config();
  REQUIRE(loaded.ok());
  auto built = policy::Snapshot::build(std::move(loaded).value().policy.policy);
  REQUIRE(built.ok());
  const auto& s = *built.value();
  const auto t = probe::targets(s, identity(s, "relay"));
  const auto probed = names(t, true);
  CHECK(probed.size() > 100);
  CHECK(std::find(probed.begin(), probed.end(), "ds20.icrc.trendmicro.com:443") != probed.end());
  CHECK(std::find(probed.begin(), probed.end(), "files.trendmicro.com:80") != probed.end());
  // The Manager's placeholders have no value in the catalog alone.
  for (const auto& target : t)
    CHECK(target.rule_id() != "manager-channel");
}
