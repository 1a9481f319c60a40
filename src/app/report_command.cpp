#include <chrono>
#include <fstream>
#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/tools/report.hpp>

#include "audit_inputs.hpp"

namespace chokepoint::app {
namespace {

struct ReportArgs {
  std::optional<std::string> html;
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::size_t top = 20;
  std::vector<std::string> inputs;
};

const config::CommandLine<ReportArgs>& command_line() {
  using config::operand;
  using config::option;
  static const config::CommandLine<ReportArgs> line(
      {"report", "sum up audit logs: terminal tables, or one HTML page",
       "Sums up audit logs: who went where, what was refused and why, what audit mode would "
       "refuse; as terminal tables, or as one self-contained HTML page."},
      {option("--html", "FILE", "write the HTML page to FILE (- for stdout)", &ReportArgs::html),
       option("--since", "TIME",
              "only records from then on: 2026-11-25, 2026-11-25T21:00, an RFC 3339 time, or "
              "90m, 24h, 7d ago",
              &ReportArgs::since),
       option("--until", "TIME", "only records before then", &ReportArgs::until),
       option("--top", "N", "rows per table (default: 20)", &ReportArgs::top,
              config::Range{1, 100000}),
       operand("AUDIT", "audit logs: files of JSON lines, gzip-compressed or not; - for stdin",
               &ReportArgs::inputs)
           .required("no audit log given (use - for standard input)")});
  return line;
}

int report(const Words& words) {
  ReportArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  const auto& [html, since, until, top, inputs] = args;

  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  tools::ReportLimits limits;
  if (since) {
    limits.since_micros = tools::parse_time_bound(*since, now);
    if (!limits.since_micros) return usage_error(command_line(), "bad --since '" + *since + "'");
  }
  if (until) {
    limits.until_micros = tools::parse_time_bound(*until, now);
    if (!limits.until_micros) return usage_error(command_line(), "bad --until '" + *until + "'");
  }

  tools::ReportBuilder builder(limits);
  const bool failed =
      !read_audit_inputs("report", inputs, [&](tools::AuditFile& file) { builder.add_file(file); });
  const tools::Report report = std::move(builder).finish();

  if (!html) {
    std::cout << tools::render_text(report, top);
  } else if (*html == "-") {
    std::cout << tools::render_html(report, top);
  } else {
    std::ofstream out(*html, std::ios::binary | std::ios::trunc);
    out << tools::render_html(report, top);
    out.close();
    if (!out) {
      std::cerr << "chokepoint report: cannot write " << *html << '\n';
      return kExitUsage;
    }
    std::cerr << "chokepoint report: wrote " << *html << " (" << report.records << " records)\n";
  }
  return failed ? kExitUsage : kExitOk;
}

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kReportCommand{&info, &report};

}  // namespace chokepoint::app
