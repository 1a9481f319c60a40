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

struct LearnArgs {
  std::string config_path;
  std::optional<int> group;
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::vector<std::string> inputs;
};

const config::CommandLine<LearnArgs>& command_line() {
  using config::operand;
  using config::option;
  static const config::CommandLine<LearnArgs> line(
      {"learn", "print a site file that lets out what the records show, and nothing else",
       "Prints a site file that includes FILE (default: the built-in catalog) and lets "
       "out what "
       "the audit records show, and nothing else."},
      {option("--config", "FILE", "the configuration the site file includes",
              &LearnArgs::config_path),
       option("--group", "PREFIX",
              "one clients entry per IPv4 /PREFIX (and IPv6 /64) instead of one per address",
              &LearnArgs::group, config::Range{8, 32}),
       option("--since", "TIME", "only records from then on (as report --help says)",
              &LearnArgs::since),
       option("--until", "TIME", "only records before then", &LearnArgs::until),
       operand("AUDIT", "audit logs: files of JSON lines, gzip-compressed or not; - for stdin",
               &LearnArgs::inputs)
           .required("no audit log given (use - for standard input)")});
  return line;
}

int learn(const Words& words) {
  LearnArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  const auto& [config_path, group, since, until, inputs] = args;

  tools::LearnOptions options;
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (since && !(options.since_micros = tools::parse_time_bound(*since, now)))
    return usage_error(command_line(), "bad --since '" + *since + "'");
  if (until && !(options.until_micros = tools::parse_time_bound(*until, now)))
    return usage_error(command_line(), "bad --until '" + *until + "'");
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

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kLearnCommand{&info, &learn};

}  // namespace chokepoint::app
