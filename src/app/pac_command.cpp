#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/pac/pac_file.hpp>

namespace chokepoint::app {
namespace {

struct PacArgs {
  std::string config_path;
  std::optional<std::string> proxy_text;
};

const config::CommandLine<PacArgs>& command_line() {
  using config::option;
  static const config::CommandLine<PacArgs> line(
      {"pac", "print the PAC file for the policy",
       "Prints the PAC file for the policy: what it lets out goes through the proxy, the rest "
       "as pac.fallback says."},
      {option("--config", "FILE", "the policy (default: the built-in catalog)",
              &PacArgs::config_path),
       option("--proxy", "HOST:PORT", "the proxy the file names (default: the policy's pac.proxy)",
              &PacArgs::proxy_text)});
  return line;
}

int pac(const Words& words) {
  PacArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  const auto& [config_path, proxy_text] = args;
  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  const policy::Policy& policy = config->policy.policy;

  // A flag wins over the file, as everywhere on this command line.
  pac::ProxyAddress proxy;
  const std::string text = proxy_text ? *proxy_text : policy.pac.proxy;
  if (text.empty())
    return usage_error(command_line(), "no proxy address: give --proxy HOST:PORT or set pac.proxy");
  if (const auto error = parse_authority(text, proxy.host, proxy.port); error != HostError::None)
    return usage_error(command_line(),
                       "bad proxy address '" + text + "': " + std::string(to_string(error)));

  std::cout << pac::generate_pac(policy, proxy, policy.pac.fallback);
  return kExitOk;
}

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kPacCommand{&info, &pac};

}  // namespace chokepoint::app
