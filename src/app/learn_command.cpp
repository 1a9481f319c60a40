#include <chrono>
#include <filesystem>
#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/tools/learn.hpp>
#include <chokepoint/tools/report.hpp>

#include "audit_inputs.hpp"

namespace chokepoint::app {
namespace {

int usage(std::string_view message) {
  std::cerr
      << "chokepoint learn: " << message << '\n'
      << "usage: chokepoint learn [--config FILE] [--group PREFIX] [--since TIME] "
         "[--until TIME] AUDIT...\n"
         "  prints a site file that includes FILE (default: the built-in catalog) and allows\n"
         "  what the audit records show; --group 24 writes one clients entry per IPv4 /24\n"
         "  (and IPv6 /64) instead of one per address\n";
  return kExitUsage;
}

}  // namespace

int learn_command(Args& args) {
  std::string config_path;
  std::optional<int> group;
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::vector<std::string> inputs;
  while (!args.done()) {
    std::string error;
    if (auto value = args.option("--config", error)) {
      config_path = *value;
    } else if (auto g = args.option("--group", error)) {
      char* end = nullptr;
      const long n = std::strtol(g->c_str(), &end, 10);
      if (g->empty() || *end != '\0' || n < 8 || n > 32)
        return usage("bad --group '" + *g + "' (an IPv4 prefix length, 8 to 32)");
      group = static_cast<int>(n);
    } else if (auto s = args.option("--since", error)) {
      since = *s;
    } else if (auto u = args.option("--until", error)) {
      until = *u;
    } else if (!error.empty()) {
      return usage(error);
    } else if (args.peek().size() > 1 && args.peek().substr(0, 2) == "--") {
      return usage("unexpected argument '" + args.peek() + "'");
    } else {
      inputs.push_back(args.take());
    }
  }
  if (inputs.empty()) return usage("no audit log given (use - for standard input)");

  tools::LearnOptions options;
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (since && !(options.since_micros = tools::parse_time_bound(*since, now)))
    return usage("bad --since '" + *since + "'");
  if (until && !(options.until_micros = tools::parse_time_bound(*until, now)))
    return usage("bad --until '" + *until + "'");
  if (group) {
    options.ipv4_prefix = *group;
    options.ipv6_prefix = *group < 32 ? 64 : 128;
  }
  if (!config_path.empty() && !policy::names_builtin(config_path)) {
    // The site file may be saved anywhere: name the configuration absolutely.
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(config_path, ec);
    options.include = ec ? config_path : absolute.lexically_normal().string();
  }

  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  auto built = policy::Snapshot::build(std::move(config->policy.policy));
  print_diagnostics(built.diagnostics(), std::cerr);
  if (!built) return kExitUsage;

  tools::Learner learner(built.value(), options);
  const bool failed =
      !read_audit_inputs("learn", inputs, [&](tools::AuditFile& file) { learner.add_file(file); });
  const tools::LearnResult result = learner.finish();
  for (const auto& problem : result.problems)
    std::cerr << "chokepoint learn: " << problem << '\n';
  if (!result.ok) return kExitUsage;
  for (const auto& warning : result.warnings)
    std::cerr << "chokepoint learn: warning: " << warning << '\n';
  std::cout << result.yaml;
  std::cerr << "chokepoint learn: " << result.clients << " clients entries, " << result.rules
            << " rules, from " << result.observations << " distinct client-destination pairs\n";
  return failed ? kExitUsage : kExitOk;
}

}  // namespace chokepoint::app
