// Every export format on one small policy (testdata/export/policy.yaml),
// whole, against golden files. The goldens are what the real parsers accept:
// tests/e2e/test_export.py runs nft -c, squid -k parse, suricata-update's
// parser and botocore's model on the same renderers. A change to a renderer
// shows here as a diff; when it is meant, rewrite the goldens with
//   CHOKEPOINT_WRITE_GOLDEN=1 build/tests/unit_tests "[export]"
// and read the diff before committing it.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include <chokepoint/config/config_file.hpp>
#include <chokepoint/tools/export.hpp>

using namespace chokepoint;
using namespace chokepoint::tools;

namespace {

const std::string kDir = std::string(CHOKEPOINT_SOURCE_DIR) + "/tests/unit/tools/testdata/export/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

policy::Policy small_policy() {
  const std::string path = kDir + "policy.yaml";
  auto loaded = config::load_config_text(read(path), "policy.yaml");
  for (const auto& d : loaded.diagnostics())
    UNSCOPED_INFO(d.to_string());
  REQUIRE(loaded.ok());
  return std::move(loaded).value().policy.policy;
}

// `text` against the golden file `name` (rewritten instead when asked).
void check_golden(const std::string& name, const std::string& text) {
  const std::string path = kDir + name;
  if (std::getenv("CHOKEPOINT_WRITE_GOLDEN")) {
    std::ofstream(path) << text;
    return;
  }
  INFO("golden " << path << "; to rewrite: CHOKEPOINT_WRITE_GOLDEN=1 unit_tests \"[export]\"");
  CHECK(text == read(path));
}

ExportOutput exported(ExportFormat format, const std::string& role = "") {
  const policy::Policy policy = small_policy();
  ExportOptions options;
  options.format = format;
  if (!role.empty()) {
    options.role = policy.find_role(role);
    REQUIRE(options.role >= 0);
  }
  return export_policy(policy, options);
}

}  // namespace

TEST_CASE("export: the format names", "[tools][export]") {
  for (const auto format : {ExportFormat::Nftables, ExportFormat::AwsNetworkFirewall,
                            ExportFormat::Suricata, ExportFormat::Squid, ExportFormat::Domains}) {
    CHECK(parse_export_format(to_string(format)) == format);
  }
  CHECK(to_string(ExportFormat::AwsNetworkFirewall) == "aws-network-firewall");
  CHECK_FALSE(parse_export_format("iptables"));
  CHECK_FALSE(parse_export_format("NFTABLES"));
}

TEST_CASE("export: nftables", "[tools][export]") {
  const ExportOutput all = exported(ExportFormat::Nftables);
  check_golden("nftables.nft", all.text);
  CHECK(all.notes.empty());
  check_golden("nftables-manager.nft", exported(ExportFormat::Nftables, "manager").text);
}

TEST_CASE("export: aws-network-firewall", "[tools][export]") {
  const ExportOutput all = exported(ExportFormat::AwsNetworkFirewall);
  // JSON has no comments: what it cannot say goes to the notes (stderr).
  check_golden("aws-network-firewall.json", all.text);
  check_golden("aws-network-firewall.notes", all.notes);
  CHECK(all.text.find('#') == std::string::npos);
}

TEST_CASE("export: suricata", "[tools][export]") {
  const ExportOutput all = exported(ExportFormat::Suricata);
  check_golden("suricata.rules", all.text);
  CHECK(all.notes.empty());
}

TEST_CASE("export: squid", "[tools][export]") {
  const ExportOutput all = exported(ExportFormat::Squid);
  check_golden("squid.conf", all.text);
  CHECK(all.notes.empty());
}

TEST_CASE("export: domains, all and per role", "[tools][export]") {
  check_golden("domains.txt", exported(ExportFormat::Domains).text);
  check_golden("domains-agent.txt", exported(ExportFormat::Domains, "agent").text);
  check_golden("domains-relay.txt", exported(ExportFormat::Domains, "relay").text);
  // A relay includes agent: it gets everything an agent gets.
  const std::string agent = exported(ExportFormat::Domains, "agent").text;
  const std::string relay = exported(ExportFormat::Domains, "relay").text;
  std::istringstream lines(agent);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#') CHECK(relay.find(line + "\n") != std::string::npos);
  }
}
