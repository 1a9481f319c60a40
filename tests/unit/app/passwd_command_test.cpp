// `chokepoint passwd`: adds or replaces one user's line, password on stdin;
// exit 2 for what it cannot do.
#include <algorithm>
#include <sys/stat.h>

#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

TEST_CASE("passwd: add, then replace, a user", "[app][passwd]") {
  test::ScratchDir dir;
  const std::string file = dir.path("users");
  for (const auto& [user, password] : {std::pair<std::string, std::string>{"relay01", "one"},
                                       {"dsm", "two"},
                                       {"relay01", "three"}}) {
    const auto run =
        run_cli({"passwd", "--users-file", file, "--iterations=1000", user}, password + "\n");
    INFO(test::describe(run));
    CHECK(run.exit == 0);
    CHECK(run.out.empty());
  }
  const std::string text = dir.read("users");
  INFO(text);
  CHECK(text.rfind("relay01:$pbkdf2-sha256$1000$", 0) == 0);
  CHECK(text.find("\ndsm:$pbkdf2-sha256$1000$") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  struct stat status {};
  REQUIRE(::stat(file.c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0640);
}

TEST_CASE("passwd: usage errors exit 2 and write nothing", "[app][passwd]") {
  test::ScratchDir dir;
  const std::string file = dir.path("users");
  test::check_usage_errors(
      app::kPasswdCommand,
      {
          {{"--users-file", file}, "missing USER"},
          {{"alice"}, "missing --users-file"},
          {{"--users-file", file, "--iterations", "999", "alice"},
           "--iterations must be 1000 to 1000000000"},
          {{"--users-file", file, "--iterations", "many", "alice"},
           "--iterations: expected a whole number, not 'many'"},
          {{"--users-file", file, "al:ice"}, "bad user name 'al:ice' (empty, or with ':')"},
          {{"--users-file", file, "alice", "bob"}, "unexpected argument 'bob'"},
      });
  const auto run = run_cli({"passwd", "--users-file", file, "--iterations", "1000", "alice"}, "\n");
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.err == "chokepoint passwd: empty password\n");
  CHECK_FALSE(std::filesystem::exists(file));
}
