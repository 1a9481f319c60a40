#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/auth/password_hash.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::app {

int check_command(Args& args) {
  std::string config_path;
  while (!args.done()) {
    std::string error;
    if (auto value = args.option("--config", error)) {
      config_path = *value;
    } else if (!error.empty()) {
      std::cerr << "chokepoint check: " << error << '\n';
      return kExitUsage;
    } else {
      std::cerr << "chokepoint check: unexpected argument '" << args.peek() << "'\n";
      return kExitUsage;
    }
  }
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

}  // namespace chokepoint::app
