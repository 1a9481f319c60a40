// `chokepoint export`: the policy in another firewall's format on stdout,
// what it cannot say on stderr for JSON; exit 2 for an unknown format or
// role, or a configuration that does not load. The formats themselves are
// tests/unit/tools/export_test.cpp's.
#include <chokepoint/config/config_file.hpp>
#include <chokepoint/tools/export.hpp>

#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

namespace {

// What export_policy() makes of the configuration at `path`, for `role`
// (empty: every role).
tools::ExportOutput expected(const std::string& path, tools::ExportFormat format,
                             const std::string& role = "") {
  auto loaded = config::load_config(path);
  REQUIRE(loaded.ok());
  const policy::Policy& policy = loaded.value().policy.policy;
  tools::ExportOptions options;
  options.format = format;
  if (!role.empty()) options.role = policy.find_role(role);
  return tools::export_policy(policy, options);
}

}  // namespace

TEST_CASE("export: every format of a policy file", "[app][export]") {
  test::ScratchDir dir;
  const std::string config = dir.write("small.yaml", test::kSmallPolicy);
  for (const auto format :
       {tools::ExportFormat::Nftables, tools::ExportFormat::AwsNetworkFirewall,
        tools::ExportFormat::Suricata, tools::ExportFormat::Squid, tools::ExportFormat::Domains}) {
    const std::string name(tools::to_string(format));
    INFO(name);
    const auto run = run_cli({"export", "--format", name, "--config", config});
    INFO(test::describe(run));
    CHECK(run.exit == 0);
    const tools::ExportOutput want = expected(config, format);
    CHECK(run.out == want.text);
    CHECK(run.err == want.notes);
  }
  // --role narrows; `any` is every role, as no --role is.
  auto run = run_cli({"export", "--config", config, "--format=domains", "--role", "manager"});
  INFO(test::describe(run));
  CHECK(run.exit == 0);
  CHECK(run.out == expected(config, tools::ExportFormat::Domains, "manager").text);
  CHECK(run.out.find("updates.example.com") == std::string::npos);
  run = run_cli({"export", "--config", config, "--format=domains", "--role", "any"});
  CHECK(run.out == expected(config, tools::ExportFormat::Domains).text);
}

TEST_CASE("export: usage errors exit 2 and print no rules", "[app][export]") {
  test::ScratchDir dir;
  const std::string config = dir.write("small.yaml", test::kSmallPolicy);
  test::check_usage_errors(
      app::kExportCommand,
      {
          {{"--config", config}, "missing --format"},
          {{"--format", "iptables"}, "unknown format 'iptables'"},
          {{"--format", "squid", "--config", config, "--role", "robot"}, "unknown role 'robot'"},
          {{"--format"}, "--format needs a value"},
      });
  const std::string bad =
      dir.write("bad.yaml", "version: 1\nrules:\n  - {id: a, destinations: [\"re:^a\\nb$\"]}\n");
  const auto run = run_cli({"export", "--format", "suricata", "--config", bad});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.out.empty());
}
