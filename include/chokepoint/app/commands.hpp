// The subcommands of chokepoint. Each declares its options as one table
// (config/command_line.hpp) in its own file: one row per option, from which
// come its parser, `chokepoint COMMAND --help` and its line in `chokepoint
// help`. Adding an option is adding a row and reading its field.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/config/command_line.hpp>
#include <chokepoint/config/config_file.hpp>
#include <chokepoint/core/diagnostic.hpp>

namespace chokepoint::app {

using Words = std::vector<std::string>;

struct Command {
  const config::CommandInfo& (*info)();  // its name and table
  int (*run)(const Words& words);        // the words after its name; returns the exit code
};

extern const Command kRunCommand;
extern const Command kCheckCommand;
extern const Command kExplainCommand;
extern const Command kPasswdCommand;
extern const Command kReportCommand;
extern const Command kLearnCommand;
extern const Command kExportCommand;
extern const Command kPacCommand;
extern const Command kInventoryCommand;
extern const Command kProbeCommand;

// Says "chokepoint NAME: MESSAGE" and the usage on stderr; returns kExitUsage.
int usage_error(const config::CommandInfo& command, std::string_view message);
template <class Args>
int usage_error(const config::CommandLine<Args>& line, std::string_view message) {
  return usage_error(line.info(), message);
}

// After reading a command line: --help prints the help (kExitOk), an error
// prints it with the usage (kExitUsage); nullopt when the command runs.
std::optional<int> after_reading(const config::CommandInfo& command,
                                 const config::Reading& reading);

// Reads `words` into `args` by `line`; see after_reading().
template <class Args>
std::optional<int> read_args(const config::CommandLine<Args>& line, const Words& words,
                             Args& args) {
  return after_reading(line.info(), line.parse(words, args));
}

// Loads `path` (policy and settings), or the built-in catalog when it is
// empty; prints every diagnostic to `out`. Returns nullopt on errors.
std::optional<config::Config> load_or_report(const std::string& path, std::ostream& out);

void print_diagnostics(const Diagnostics& diagnostics, std::ostream& out);

}  // namespace chokepoint::app
