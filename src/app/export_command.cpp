#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/tools/export.hpp>

namespace chokepoint::app {
namespace {

int usage(std::string_view message) {
  std::cerr << "chokepoint export: " << message << '\n'
            << "usage: chokepoint export --format "
               "nftables|aws-network-firewall|suricata|squid|domains [--config FILE] "
               "[--role ROLE]\n";
  return kExitUsage;
}

}  // namespace

int export_command(Args& args) {
  std::string config_path;
  std::optional<std::string> format_name;
  std::optional<std::string> role;
  while (!args.done()) {
    std::string error;
    if (auto value = args.option("--config", error)) {
      config_path = *value;
    } else if (auto f = args.option("--format", error)) {
      format_name = *f;
    } else if (auto r = args.option("--role", error)) {
      role = *r;
    } else if (!error.empty()) {
      return usage(error);
    } else {
      return usage("unexpected argument '" + args.peek() + "'");
    }
  }
  if (!format_name) return usage("missing --format");
  const auto format = tools::parse_export_format(*format_name);
  if (!format) return usage("unknown format '" + *format_name + "'");

  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  tools::ExportOptions options;
  options.format = *format;
  if (role && *role != "any") {
    options.role = config->policy.policy.find_role(*role);
    if (options.role < 0) return usage("unknown role '" + *role + "'");
  }
  const tools::ExportOutput output = tools::export_policy(config->policy.policy, options);
  std::cerr << output.notes;
  std::cout << output.text;
  return kExitOk;
}

}  // namespace chokepoint::app
