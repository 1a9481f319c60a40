// `chokepoint run` (and `chokepoint` with flags only): the flag errors and
// --help, all before anything is bound. A valid command line would serve,
// so none is run here; tests/e2e starts the real binary for that.
#include <chokepoint/config/flags.hpp>

#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

TEST_CASE("run: a bad flag is a usage error naming it", "[app][run]") {
  test::check_usage_errors(app::kRunCommand,
                           {
                               {{"--frobnicate"}, "unexpected argument '--frobnicate'"},
                               {{"serve"}, "unexpected argument 'serve'"},
                               {{"--listen"}, "--listen needs a value"},
                               {{"--threads=x"}, "--threads: expected a whole number, not 'x'"},
                               {{"--admin-public=yes"}, "--admin-public takes no value"},
                               {{"--relay", "fast"}, "--relay must be auto or copy, not 'fast'"},
                               {{"--audit-log="}, "--audit-log must be a path, '-' or 'none'"},
                               {{"--list", "127.0.0.1:1"}, "unexpected argument '--list'"},
                           });
  // `chokepoint` followed by a flag is `run`, and says so.
  const std::string usage = config::usage(config::run_command_line().info());
  const auto run = run_cli({"--threads", "0"});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.err == "chokepoint run: --threads must be 1 to 256\n" + usage);
  CHECK(usage.rfind("usage: chokepoint [run] [--config FILE] [options]; options: --listen "
                    "--transparent",
                    0) == 0);
}

TEST_CASE("run --help: every flag, its key and its default", "[app][run]") {
  for (const char* help : {"--help", "-h"}) {
    const auto run = run_cli({"run", help, "--threads", "2"});
    INFO(test::describe(run));
    CHECK(run.exit == 0);
    CHECK(run.err.empty());
    CHECK(run.out == config::help_text(config::run_command_line().info()));
    CHECK(test::contains(run.out, "\n  --listen ADDR:PORT              explicit proxy listener; "));
    CHECK(test::contains(run.out, "[settings: listen; default 127.0.0.1:3128]"));
    CHECK(test::contains(run.out,
                         "\n  --admin-public                  allow a non-loopback admin "
                         "address [settings: admin_public]\n"));
  }
}

TEST_CASE("run: a configuration that does not load exits 2 before serving", "[app][run]") {
  test::ScratchDir dir;
  const std::string bad =
      dir.write("bad.yaml", "version: 1\nrules:\n  - {id: a, destinations: ['*']}\n");
  auto run = run_cli({"run", "--config", bad, "--listen", "127.0.0.1:0"});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.err.rfind(bad + ":3:", 0) == 0);
  run = run_cli({"--config=" + dir.path("absent.yaml")});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.err.find(dir.path("absent.yaml")) != std::string::npos);
}
