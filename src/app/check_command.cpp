#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::app {
namespace {

struct CheckArgs {
  std::string config_path;
};

const config::CommandLine<CheckArgs>& command_line() {
  static const config::CommandLine<CheckArgs> line(
      {"check", "validate; print FILE:LINE:COLUMN: message for every problem, exit 2 if any"},
      {config::option("--config", "FILE", "the configuration (default: the built-in catalog)",
                      &CheckArgs::config_path)});
  return line;
}

int check(const Words& words) {
  CheckArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  const std::string& config_path = args.config_path;
  auto config = load_or_report(config_path, std::cout);
  if (!config) return kExitUsage;
  auto snapshot = policy::Snapshot::build(std::move(config->policy.policy));
  print_diagnostics(snapshot.diagnostics(), std::cout);
  // The users file the config names is read as `run` would read it, so that
  // check refuses what start-up and a reload would.
  const std::string users_file = config->settings.users_file.value_or("");
  bool users_ok = true;
  if (!users_file.empty()) {
    const auto users = auth::load_users(users_file);
    print_diagnostics(users.diagnostics(), std::cout);
    users_ok = users.ok();
  }
  if (!snapshot || !users_ok) return kExitUsage;

  const policy::Policy& p = snapshot.value()->policy();
  std::cout << (config_path.empty() ? std::string(policy::kBuiltinCatalogName) : config_path)
            << ": ok: " << p.rules.size() << " rules, " << snapshot.value()->matcher().entry_count()
            << " destinations, " << p.roles.size() << " roles, " << p.version_groups.size()
            << " version groups, " << p.clients.size() << " clients, mode "
            << policy::to_string(p.mode) << '\n';
  return kExitOk;
}

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kCheckCommand{&info, &check};

}  // namespace chokepoint::app
