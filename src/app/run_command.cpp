#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::app {

int run_command(Args& args) {
  std::string config_path;
  while (!args.done()) {
    std::string error;
    if (auto value = args.option("--config", error)) {
      config_path = *value;
    } else {
      std::cerr << "chokepoint: "
                << (error.empty() ? "unexpected argument '" + args.peek() + "'" : error) << '\n';
      return kExitUsage;
    }
  }
  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  auto snapshot = policy::Snapshot::build(std::move(*config));
  print_diagnostics(snapshot.diagnostics(), std::cerr);
  if (!snapshot) return kExitUsage;
  const policy::Policy& p = snapshot.value()->policy();
  std::cout << "chokepoint: loaded " << p.rules.size() << " rules ("
            << snapshot.value()->matcher().entry_count() << " destinations); the proxy listener is "
            << "not built yet\n";
  return kExitOk;
}

}  // namespace chokepoint::app
