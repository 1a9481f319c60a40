#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/pac/pac_file.hpp>

namespace chokepoint::app {
namespace {

int usage(std::string_view message) {
  std::cerr << "chokepoint pac: " << message << '\n'
            << "usage: chokepoint pac [--config FILE] [--proxy HOST:PORT]\n";
  return kExitUsage;
}

}  // namespace

int pac_command(Args& args) {
  std::string config_path;
  std::optional<std::string> proxy_text;
  while (!args.done()) {
    std::string error;
    if (auto value = args.option("--config", error)) {
      config_path = *value;
    } else if (auto proxy = args.option("--proxy", error)) {
      proxy_text = *proxy;
    } else if (!error.empty()) {
      return usage(error);
    } else {
      return usage("unexpected argument '" + args.peek() + "'");
    }
  }
  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  const policy::Policy& policy = config->policy.policy;

  // A flag wins over the file, as everywhere on this command line.
  pac::ProxyAddress proxy;
  const std::string text = proxy_text ? *proxy_text : policy.pac.proxy;
  if (text.empty()) return usage("no proxy address: give --proxy HOST:PORT or set pac.proxy");
  if (const auto error = parse_authority(text, proxy.host, proxy.port); error != HostError::None)
    return usage("bad proxy address '" + text + "': " + std::string(to_string(error)));

  std::cout << pac::generate_pac(policy, proxy, policy.pac.fallback);
  return kExitOk;
}

}  // namespace chokepoint::app
