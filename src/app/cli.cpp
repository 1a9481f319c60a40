#include <iostream>
#include <string_view>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>

namespace chokepoint::app {
namespace {

constexpr std::string_view kUsage = R"(usage:
  chokepoint [run] [--config FILE] [options]     serve (default: the built-in Deep Security
                                                 catalog on 127.0.0.1:3128, audit to stdout)
  chokepoint check [--config FILE]               validate; print FILE:LINE:COLUMN: message
  chokepoint explain [--config FILE] [--client IP | --user NAME | --role ROLE]
                     [--version V] HOST:PORT[/PATH]
                                                 print the decision as JSON; exit 1 if denied
  chokepoint passwd --users-file FILE USER      add or change a proxy user (password on stdin)
  chokepoint report [--html FILE] [--since TIME] [--until TIME] [--top N] AUDIT...
                                                 summarise audit logs (files, - for stdin, .gz)
  chokepoint learn [--config FILE] [--group PREFIX] [--since TIME] [--until TIME] AUDIT...
                                                 print a site file that allows what the logs show
  chokepoint export --format FORMAT [--config FILE] [--role ROLE]
                                                 the policy as nftables, aws-network-firewall,
                                                 suricata, squid or domains rules
  chokepoint pac [--config FILE] [--proxy HOST:PORT]
                                                 print the PAC file for the policy
  chokepoint version

Exit codes: 0 success, 1 denied (explain), 2 usage or configuration error.
)";

}  // namespace

void print_diagnostics(const Diagnostics& diagnostics, std::ostream& out) {
  for (const auto& d : diagnostics)
    out << d.to_string() << '\n';
}

std::optional<config::Config> load_or_report(const std::string& path, std::ostream& out) {
  auto result = config::load_config(path);
  print_diagnostics(result.diagnostics(), out);
  if (!result) return std::nullopt;
  return std::move(result).value();
}

int main(int argc, char** argv) {
  if (argc >= 2) {
    const std::string_view command = argv[1];
    if (command == "check") {
      Args args(argc, argv, 2);
      return check_command(args);
    }
    if (command == "explain") {
      Args args(argc, argv, 2);
      return explain_command(args);
    }
    if (command == "passwd") {
      Args args(argc, argv, 2);
      return passwd_command(args);
    }
    if (command == "report") {
      Args args(argc, argv, 2);
      return report_command(args);
    }
    if (command == "learn") {
      Args args(argc, argv, 2);
      return learn_command(args);
    }
    if (command == "export") {
      Args args(argc, argv, 2);
      return export_command(args);
    }
    if (command == "pac") {
      Args args(argc, argv, 2);
      return pac_command(args);
    }
    if (command == "version" || command == "--version") {
      std::cout << "chokepoint " << CHOKEPOINT_VERSION << '\n';
      return kExitOk;
    }
    if (command == "help" || command == "--help" || command == "-h") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (command == "run") {
      Args args(argc, argv, 2);
      return run_command(args);
    }
    if (command.substr(0, 2) != "--") {
      std::cerr << "chokepoint: unknown command '" << command << "'\n" << kUsage;
      return kExitUsage;
    }
  }
  Args args(argc, argv, 1);
  return run_command(args);
}

}  // namespace chokepoint::app
