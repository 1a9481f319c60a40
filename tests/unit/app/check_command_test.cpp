// `chokepoint check`: exit 0 and a summary for a valid configuration; exit 2
// with FILE:LINE:COLUMN for each problem, or with the usage.
#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

TEST_CASE("check: a valid configuration", "[app][check]") {
  test::ScratchDir dir;
  const std::string path = dir.write("small.yaml", test::kSmallPolicy);
  for (const auto& words : {std::vector<std::string>{"check", "--config", path},
                            std::vector<std::string>{"check", "--config=" + path}}) {
    const auto run = run_cli(words);
    INFO(test::describe(run));
    CHECK(run.exit == 0);
    CHECK(run.out == path +
                         ": ok: 3 rules, 3 destinations, 2 roles, 0 version groups, 2 clients, "
                         "mode enforce\n");
    CHECK(run.err.empty());
  }
  // No --config: the built-in catalog.
  const auto run = run_cli({"check"});
  INFO(test::describe(run));
  CHECK(run.exit == 0);
  CHECK(run.out.rfind("builtin:deep-security.yaml: ok: ", 0) == 0);
}

TEST_CASE("check: every problem as FILE:LINE:COLUMN, exit 2", "[app][check]") {
  test::ScratchDir dir;
  const std::string path = dir.write("bad.yaml",
                                     "version: 1\nrules:\n  - {id: a, destinations: ['*.co.jp']}\n"
                                     "  - {id: b, ports: 70000, destinations: [ok.example.com]}\n");
  const auto run = run_cli({"check", "--config", path});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.out.find(path + ":3:") != std::string::npos);
  CHECK(run.out.find(path + ":4:") != std::string::npos);
  CHECK(run.out.find(": ok:") == std::string::npos);
}

TEST_CASE("check: the users file the configuration names, read as run reads it", "[app][check]") {
  test::ScratchDir dir;
  const std::string users = dir.write("users", "alice:not-a-hash\n");
  std::filesystem::permissions(users, std::filesystem::perms(0600));
  const std::string config =
      dir.write("site.yaml", "version: 1\nsettings: {users_file: " + users + "}\n");
  const auto run = run_cli({"check", "--config", config});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.out.rfind(users + ":1:1: expected NAME:$pbkdf2-sha256$", 0) == 0);
  CHECK_FALSE(test::contains(run.out, ": ok:"));
}

TEST_CASE("check: usage errors", "[app][check]") {
  for (const auto& [words, message] :
       {std::pair<std::vector<std::string>, std::string>{{"check", "--config"},
                                                         "--config needs a value"},
        {{"check", "extra.yaml"}, "unexpected argument 'extra.yaml'"}}) {
    const auto run = run_cli(words);
    INFO(test::describe(run));
    CHECK(run.exit == 2);
    CHECK(run.err.rfind(
              "chokepoint check: " + message + "\nusage: chokepoint check [--config FILE]\n", 0) ==
          0);
  }
}
