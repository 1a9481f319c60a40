// `chokepoint learn`: a site file that lets out what the records show; exit
// 2 for a bad option, a configuration that does not load, or a log it could
// not read.
#include "audit_lines.hpp"
#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

TEST_CASE("learn: a site file from the records", "[app][learn]") {
  test::ScratchDir dir;
  const std::string log = dir.write("audit.jsonl", test::kAuditLines);
  const auto run = run_cli({"learn", log});
  INFO(test::describe(run));
  CHECK(run.exit == 0);
  CHECK(test::contains(run.out, "\ninclude: \"builtin:deep-security.yaml\"\n"));
  CHECK(test::contains(run.out, "10.0.8.23"));
  CHECK(test::contains(run.err, "chokepoint learn: "));

  // --group 24: one entry for the /24, not one per address.
  const auto grouped = run_cli({"learn", "--group", "24", "-"}, test::kAuditLines);
  INFO(test::describe(grouped));
  CHECK(grouped.exit == 0);
  CHECK(test::contains(grouped.out, "10.0.8.0/24"));
  CHECK_FALSE(test::contains(grouped.out, "10.0.8.23"));

  // The configuration is named absolutely, wherever the site file goes.
  const std::string site =
      dir.write("site.yaml", "version: 1\ninclude: builtin:deep-security.yaml\n");
  const auto included = run_cli({"learn", "--config", site, log});
  INFO(test::describe(included));
  CHECK(included.exit == 0);
  CHECK(test::contains(included.out, "\ninclude: \"" + site + "\"\n"));
}

TEST_CASE("learn: usage errors exit 2", "[app][learn]") {
  test::ScratchDir dir;
  const std::string log = dir.write("audit.jsonl", test::kAuditLines);
  test::check_usage_errors(app::kLearnCommand,
                           {
                               {{}, "no audit log given (use - for standard input)"},
                               {{"--group", "4", log}, "--group must be 8 to 32"},
                               {{"--group", "x", log}, "--group: expected a whole number, not 'x'"},
                               {{"--since", "soon", log}, "bad --since 'soon'"},
                               {{"--until", "", log}, "bad --until ''"},
                           });
  const std::string bad = dir.write("bad.yaml", "version: 1\nrules: [\n");
  const auto run = run_cli({"learn", "--config", bad, log});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.out.empty());
  CHECK(run.err.rfind(bad + ":", 0) == 0);
}
