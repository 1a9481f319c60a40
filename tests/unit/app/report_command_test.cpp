// `chokepoint report`: audit logs from files or stdin into tables or one
// HTML page; exit 2 for a bad option or a log it could not read.
#include "audit_lines.hpp"
#include "cli_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::run_cli;

TEST_CASE("report: files and stdin, tables and HTML", "[app][report]") {
  test::ScratchDir dir;
  const std::string log = dir.write("audit.jsonl", test::kAuditLines);
  const auto from_file = run_cli({"report", log});
  INFO(test::describe(from_file));
  CHECK(from_file.exit == 0);
  CHECK(test::contains(from_file.out, "3 records"));
  CHECK(test::contains(from_file.out, "evil.example.com"));
  const auto from_stdin = run_cli({"report", "-"}, test::kAuditLines);
  CHECK(from_stdin.exit == 0);
  CHECK(from_stdin.out == from_file.out);

  const auto html = run_cli({"report", "--html", dir.path("r.html"), "--top=1", log});
  INFO(test::describe(html));
  CHECK(html.exit == 0);
  CHECK(html.out.empty());
  CHECK(html.err == "chokepoint report: wrote " + dir.path("r.html") + " (3 records)\n");
  CHECK(test::contains(dir.read("r.html"), "<html"));
  const auto to_stdout = run_cli({"report", "--html", "-", log});
  CHECK(to_stdout.exit == 0);
  CHECK(test::contains(to_stdout.out, "<html"));

  // A bound: nothing before 2026.
  const auto none = run_cli({"report", "--until", "2026-01-01", log});
  CHECK(none.exit == 0);
  CHECK(test::contains(none.out, " 0 records"));
}

TEST_CASE("report: usage errors and unreadable logs exit 2", "[app][report]") {
  test::ScratchDir dir;
  const std::string log = dir.write("audit.jsonl", test::kAuditLines);
  test::check_usage_errors(app::kReportCommand,
                           {
                               {{}, "no audit log given (use - for standard input)"},
                               {{"--top", "0", log}, "--top must be 1 to 100000"},
                               {{"--top", "ten", log}, "--top: expected a whole number, not 'ten'"},
                               {{"--since", "yesterday", log}, "bad --since 'yesterday'"},
                               {{"--until=5x", log}, "bad --until '5x'"},
                               {{"--html", log}, "no audit log given (use - for standard input)"},
                           });
  // A log that cannot be read is said, the others still summed up.
  const auto run = run_cli({"report", dir.path("absent.jsonl"), log});
  INFO(test::describe(run));
  CHECK(run.exit == 2);
  CHECK(run.err.rfind("chokepoint report: " + dir.path("absent.jsonl") + ": ", 0) == 0);
  CHECK(test::contains(run.out, "3 records"));
}
