#include <algorithm>
#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>

namespace chokepoint::app {
namespace {

// `chokepoint` alone, or followed by a flag, is `run`; so `run` comes first.
const Command* const kCommands[] = {
    &kRunCommand,   &kCheckCommand,  &kExplainCommand, &kPasswdCommand,    &kReportCommand,
    &kLearnCommand, &kExportCommand, &kPacCommand,     &kInventoryCommand, &kProbeCommand};

// `chokepoint help`: every command's synopsis and summary, from their tables.
std::string overview() {
  static const config::CommandInfo version{"version", "print chokepoint's version"};
  std::vector<const config::CommandInfo*> commands;
  for (const Command* c : kCommands)
    commands.push_back(&c->info());
  commands.push_back(&version);
  return config::overview(commands) +
         "\nExit codes: 0 success, 1 denied (explain) or unreachable (probe), 2 usage or "
         "configuration error.\n"
         "chokepoint COMMAND --help says what each option of COMMAND does.\n";
}

}  // namespace

int main(int argc, char** argv) {
  const Words words(argv + std::min(argc, 1), argv + argc);
  if (!words.empty()) {
    const std::string& command = words.front();
    const Words rest(words.begin() + 1, words.end());
    for (const Command* c : kCommands) {
      if (command == c->info().name) return c->run(rest);
    }
    if (command == "version" || command == "--version") {
      std::cout << "chokepoint " << CHOKEPOINT_VERSION << '\n';
      return kExitOk;
    }
    if (command == "help" || command == "--help" || command == "-h") {
      std::cout << overview();
      return kExitOk;
    }
    if (command.substr(0, 2) != "--") {
      std::cerr << "chokepoint: unknown command '" << command << "'\n" << overview();
      return kExitUsage;
    }
  }
  return kRunCommand.run(words);
}

}  // namespace chokepoint::app
