// One function per subcommand; each takes the arguments after its name.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include <chokepoint/app/args.hpp>
#include <chokepoint/config/config_file.hpp>
#include <chokepoint/core/diagnostic.hpp>

namespace chokepoint::app {

int check_command(Args& args);
int explain_command(Args& args);
int run_command(Args& args);
int passwd_command(Args& args);
int pac_command(Args& args);
int report_command(Args& args);
int learn_command(Args& args);
int export_command(Args& args);

// Loads `path` (policy and settings), or the built-in catalog when it is
// empty; prints every diagnostic to `out`. Returns nullopt on errors.
std::optional<config::Config> load_or_report(const std::string& path, std::ostream& out);

void print_diagnostics(const Diagnostics& diagnostics, std::ostream& out);

}  // namespace chokepoint::app
