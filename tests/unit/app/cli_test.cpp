// The command line's front door: version, help, an unknown command, and for
// every command its generated --help, its usage error and a sane table.
#include <set>

#include <chokepoint/app/commands.hpp>

#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

namespace {

const app::Command* const kAll[] = {
    &app::kRunCommand,    &app::kCheckCommand,  &app::kExplainCommand,
    &app::kPasswdCommand, &app::kReportCommand, &app::kLearnCommand,
    &app::kExportCommand, &app::kPacCommand,    &app::kProbeCommand};

}  // namespace

TEST_CASE("version", "[app][cli]") {
  for (const char* word : {"version", "--version"}) {
    const auto run = run_cli({word});
    INFO(test::describe(run));
    CHECK(run.exit == 0);
    CHECK(run.out == std::string("chokepoint ") + CHOKEPOINT_VERSION + "\n");
    CHECK(run.err.empty());
  }
}

TEST_CASE("help lists every command with its synopsis", "[app][cli]") {
  for (const char* word : {"help", "--help", "-h"}) {
    const auto run = run_cli({word});
    INFO(test::describe(run));
    CHECK(run.exit == 0);
    for (const app::Command* c : kAll) {
      // The synopsis may wrap; its start is on the command's first line.
      const std::string start = "  chokepoint " + config::synopsis(c->info()).substr(0, 40);
      CHECK(run.out.find(start) != std::string::npos);
      CHECK(run.out.find(c->info().summary.substr(0, 40)) != std::string::npos);
    }
    CHECK(run.out.find("  chokepoint version\n") != std::string::npos);
    CHECK(run.out.find("Exit codes: 0 success, 1 denied (explain) or unreachable (probe), 2 "
                       "usage or configuration error.") != std::string::npos);
  }
}

TEST_CASE("an unknown command is a usage error", "[app][cli]") {
  const auto run = run_cli({"frobnicate", "--config", "x"});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.out.empty());
  CHECK(run.err.rfind("chokepoint: unknown command 'frobnicate'\nusage:\n", 0) == 0);
}

TEST_CASE("each command's synopsis, generated, is what it was written as", "[app][cli]") {
  const std::pair<const app::Command*, std::string> expected[] = {
      {&app::kRunCommand, "[run] [--config FILE] [options]"},
      {&app::kCheckCommand, "check [--config FILE]"},
      {&app::kExplainCommand,
       "explain [--config FILE] [--client IP | --user NAME | --role ROLE] [--version V] "
       "HOST:PORT[/PATH]"},
      {&app::kPasswdCommand, "passwd --users-file FILE [--iterations N] USER"},
      {&app::kReportCommand,
       "report [--html FILE] [--since TIME] [--until TIME] [--top N] AUDIT..."},
      {&app::kLearnCommand,
       "learn [--config FILE] [--group PREFIX] [--since TIME] [--until TIME] AUDIT..."},
      {&app::kExportCommand, "export --format FORMAT [--config FILE] [--role ROLE]"},
      {&app::kPacCommand, "pac [--config FILE] [--proxy HOST:PORT]"},
  };
  for (const auto& [command, synopsis] : expected)
    CHECK(config::synopsis(command->info()) == synopsis);
}

TEST_CASE("every command's --help comes from its table", "[app][cli]") {
  for (const app::Command* c : kAll) {
    const config::CommandInfo& info = c->info();
    INFO(info.name);
    for (const char* word : {"--help", "-h"}) {
      const auto run = run_cli({info.name, word});
      INFO(test::describe(run));
      CHECK(run.exit == 0);
      CHECK(run.err.empty());
      CHECK(run.out == config::help_text(info));
      CHECK(run.out.rfind("usage: chokepoint " + config::synopsis(info).substr(0, 40), 0) == 0);
      for (const config::OptionInfo& o : info.options)
        CHECK(run.out.find("\n  " + o.name) != std::string::npos);
    }
  }
}

TEST_CASE("every command names an unknown option and exits 2", "[app][cli]") {
  for (const app::Command* c : kAll) {
    INFO(c->info().name);
    test::check_usage_errors(*c, {{{"--frobnicate"}, "unexpected argument '--frobnicate'\n"},
                                  {{"-x"}, "unexpected argument '-x'\n"},
                                  {{"--frobnicate=1"}, "unexpected argument '--frobnicate=1'\n"}});
  }
}

TEST_CASE("every command's table is well formed", "[app][cli]") {
  for (const app::Command* c : kAll) {
    const config::CommandInfo& info = c->info();
    INFO(info.name);
    CHECK_FALSE(info.summary.empty());
    std::set<std::string> names;
    for (const config::OptionInfo& o : info.options) {
      INFO(o.name);
      CHECK(names.insert(o.name).second);
      CHECK_FALSE(o.help.empty());
      const bool operand = o.takes == config::Takes::Operand || o.takes == config::Takes::Operands;
      CHECK(o.name.rfind("--", 0) == (operand ? std::string::npos : 0));
      CHECK(o.metavar.empty() == (operand || o.takes == config::Takes::Nothing));
      CHECK(o.name != "--help");
    }
  }
}
