#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>

namespace chokepoint::app {

int usage_error(const config::CommandInfo& command, std::string_view message) {
  std::cerr << "chokepoint " << command.name << ": " << message << '\n' << config::usage(command);
  return kExitUsage;
}

std::optional<int> after_reading(const config::CommandInfo& command,
                                 const config::Reading& reading) {
  if (!reading.error.empty()) return usage_error(command, reading.error);
  if (reading.help) {
    std::cout << config::help_text(command);
    return kExitOk;
  }
  return std::nullopt;
}

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

}  // namespace chokepoint::app
