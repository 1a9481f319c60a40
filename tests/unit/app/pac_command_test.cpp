// `chokepoint pac`: the PAC file of a policy; --proxy wins over pac.proxy,
// and without either there is nothing to name (exit 2).
#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

TEST_CASE("pac: the proxy from --proxy or from pac.proxy", "[app][pac]") {
  test::ScratchDir dir;
  const std::string plain = dir.write("small.yaml", test::kSmallPolicy);
  auto run = run_cli({"pac", "--config", plain, "--proxy", "proxy.corp.example:3128"});
  INFO(test::describe(run));
  CHECK(run.exit == 0);
  CHECK(test::contains(run.out, "function FindProxyForURL(url, host)"));
  CHECK(test::contains(run.out, "\"PROXY proxy.corp.example:3128\""));
  CHECK(test::contains(run.out, "updates.example.com"));
  CHECK(run.err.empty());

  const std::string with_proxy =
      dir.write("pac.yaml",
                std::string(test::kSmallPolicy) + "pac: {proxy: 'chokepoint.corp.example:8080'}\n");
  run = run_cli({"pac", "--config", with_proxy});
  INFO(test::describe(run));
  CHECK(run.exit == 0);
  CHECK(test::contains(run.out, "\"PROXY chokepoint.corp.example:8080\""));
  run = run_cli({"pac", "--config", with_proxy, "--proxy=[2001:DB8::1]:3128"});
  INFO(test::describe(run));
  CHECK(run.exit == 0);
  CHECK(test::contains(run.out, "\"PROXY [2001:db8::1]:3128\""));
}

TEST_CASE("pac: usage errors exit 2", "[app][pac]") {
  test::ScratchDir dir;
  const std::string plain = dir.write("small.yaml", test::kSmallPolicy);
  test::check_usage_errors(
      app::kPacCommand,
      {
          {{"--config", plain}, "no proxy address: give --proxy HOST:PORT or set pac.proxy"},
          {{"--config", plain, "--proxy", "x\";alert(1);\"y:3128"}, "bad proxy address 'x\";"},
          {{"--proxy", "p:1", "extra"}, "unexpected argument 'extra'"},
      });
}
