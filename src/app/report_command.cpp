#include <chrono>
#include <fstream>
#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/tools/report.hpp>

#include "audit_inputs.hpp"

namespace chokepoint::app {
namespace {

int usage(std::string_view message) {
  std::cerr << "chokepoint report: " << message << '\n'
            << "usage: chokepoint report [--html FILE] [--since TIME] [--until TIME] [--top N] "
               "AUDIT...\n"
               "  AUDIT: a file of JSON lines, gzip-compressed or not; - for standard input\n"
               "  TIME: 2026-11-25, 2026-11-25T21:00, an RFC 3339 time, or 90m, 24h, 7d ago\n";
  return kExitUsage;
}

}  // namespace

int report_command(Args& args) {
  std::optional<std::string> html;
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::size_t top = 20;
  std::vector<std::string> inputs;
  while (!args.done()) {
    std::string error;
    if (auto value = args.option("--html", error)) {
      html = *value;
    } else if (auto s = args.option("--since", error)) {
      since = *s;
    } else if (auto u = args.option("--until", error)) {
      until = *u;
    } else if (auto t = args.option("--top", error)) {
      char* end = nullptr;
      const unsigned long n = std::strtoul(t->c_str(), &end, 10);
      if (t->empty() || *end != '\0' || n == 0 || n > 100000)
        return usage("bad --top '" + *t + "'");
      top = n;
    } else if (!error.empty()) {
      return usage(error);
    } else if (args.peek().size() > 1 && args.peek().substr(0, 2) == "--") {
      return usage("unexpected argument '" + args.peek() + "'");
    } else {
      inputs.push_back(args.take());
    }
  }
  if (inputs.empty()) return usage("no audit log given (use - for standard input)");

  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  tools::ReportLimits limits;
  if (since) {
    limits.since_micros = tools::parse_time_bound(*since, now);
    if (!limits.since_micros) return usage("bad --since '" + *since + "'");
  }
  if (until) {
    limits.until_micros = tools::parse_time_bound(*until, now);
    if (!limits.until_micros) return usage("bad --until '" + *until + "'");
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

}  // namespace chokepoint::app
