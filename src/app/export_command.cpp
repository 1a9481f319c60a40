#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/tools/export.hpp>

namespace chokepoint::app {
namespace {

struct ExportArgs {
  std::string format_name;
  std::string config_path;
  std::optional<std::string> role;
};

const config::CommandLine<ExportArgs>& command_line() {
  using config::option;
  static const config::CommandLine<ExportArgs> line(
      {"export", "the policy as nftables, aws-network-firewall, suricata, squid or domains rules",
       "Prints the policy as another firewall's allow-list; what the format cannot say is "
       "named "
       "in a leading comment (on stderr for JSON)."},
      {option("--format", "FORMAT", "nftables, aws-network-firewall, suricata, squid or domains",
              &ExportArgs::format_name)
           .required("missing --format"),
       option("--config", "FILE", "the policy (default: the built-in catalog)",
              &ExportArgs::config_path),
       option("--role", "ROLE", "only the rules this role may use (default: every rule)",
              &ExportArgs::role)});
  return line;
}

int export_rules(const Words& words) {
  ExportArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  const auto& [format_name, config_path, role] = args;
  const auto format = tools::parse_export_format(format_name);
  if (!format) return usage_error(command_line(), "unknown format '" + format_name + "'");

  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  tools::ExportOptions options;
  options.format = *format;
  if (role && *role != "any") {
    options.role = config->policy.policy.find_role(*role);
    if (options.role < 0) return usage_error(command_line(), "unknown role '" + *role + "'");
  }
  const tools::ExportOutput output = tools::export_policy(config->policy.policy, options);
  std::cerr << output.notes;
  std::cout << output.text;
  return kExitOk;
}

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kExportCommand{&info, &export_rules};

}  // namespace chokepoint::app
