// `chokepoint explain`: one JSON object, exit 0 when it would be let out and
// 1 when not; 2 for what it cannot ask.
#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

TEST_CASE("explain: let out (0) and refused (1)", "[app][explain]") {
  auto run =
      run_cli({"explain", "--role", "agent", "--version", "20.0", "ds20.icrc.trendmicro.com:443"});
  INFO(test::describe(run));
  CHECK(run.exit == 0);
  CHECK(run.out.rfind(R"({"decision":"allow","enforced":true,"rule":"spn-smart-scan",)", 0) == 0);
  CHECK(run.out.back() == '\n');
  CHECK(run.err.empty());

  run = run_cli({"explain", "--role=agent", "evil.example.com:443"});
  INFO(test::describe(run));
  CHECK(run.exit == 1);
  CHECK(run.out.rfind(R"({"decision":"deny","enforced":true,"rule":null,)", 0) == 0);
}

TEST_CASE("explain: who asks, by client, user or role, in a policy file", "[app][explain]") {
  test::ScratchDir dir;
  const std::string config = dir.write("small.yaml", test::kSmallPolicy);
  struct Case {
    std::vector<std::string> who;
    std::string target;
    int exit;
    std::string role;
  };
  const Case cases[] = {
      {{}, "updates.example.com:443", 0, "agent"},  // the default role
      {{"--client", "10.0.8.9"}, "updates.example.com:80", 0, "agent"},
      {{"--client", "10.0.0.5"}, "updates.example.com:80", 1, "manager"},
      {{"--client", "10.0.0.5"}, "api.cloud.example.com:443", 0, "manager"},
      {{"--role", "manager"}, "api.cloud.example.com:80", 1, "manager"},
      {{"--role", "any"}, "bad.example.com:443", 1, "any"},
      {{"--user", "nobody"}, "updates.example.com:443", 0, "agent"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> words = {"explain", "--config", config};
    words.insert(words.end(), c.who.begin(), c.who.end());
    words.push_back(c.target);
    const auto run = run_cli(words);
    INFO(test::describe(run));
    CHECK(run.exit == c.exit);
    CHECK(test::contains(run.out, R"("role":")" + c.role + R"(")"));
  }
  const auto run = run_cli({"explain", "--config", config, "updates.example.com:80/a/b"});
  INFO(test::describe(run));
  CHECK(run.exit == 0);
  CHECK(test::contains(run.out, R"("path":"/a/b")"));
}

TEST_CASE("explain: usage errors exit 2", "[app][explain]") {
  test::check_usage_errors(
      app::kExplainCommand,
      {
          {{}, "missing HOST:PORT"},
          {{"no-port.example.com"}, "bad destination 'no-port.example.com': "},
          {{"--role", "robot", "a.example.com:443"}, "unknown role 'robot'"},
          {{"--version", "v20", "a.example.com:443"},
           "bad version 'v20' (expected 20, 20.0 or 20.0.1-1234)"},
          {{"--client", "10.0.0.300", "a.example.com:443"}, "bad client address '10.0.0.300'"},
          {{"--role", "agent", "--client", "10.0.0.1", "a.example.com:443"},
           "give at most one of --client, --user and --role"},
          {{"a.example.com:443", "b.example.com:443"}, "unexpected argument 'b.example.com:443'"},
          {{"--role"}, "--role needs a value"},
      });
}

TEST_CASE("explain: a configuration that does not load exits 2", "[app][explain]") {
  test::ScratchDir dir;
  const std::string bad = dir.write("bad.yaml", "version: 2\n");
  const auto run = run_cli({"explain", "--config", bad, "a.example.com:443"});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.out.empty());
  CHECK(run.err.rfind(bad + ":", 0) == 0);
}
