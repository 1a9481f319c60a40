// Audit logs as `report` and `learn` read them, on arbitrary bytes (plain or
// gzip): the lines are the same whatever the buffer size, every line parses
// to a record or to an error value, and the report over them renders.
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include <chokepoint/tools/audit_reader.hpp>
#include <chokepoint/tools/report.hpp>

#include "fuzz_input.hpp"

using namespace chokepoint;

namespace {

constexpr std::size_t kMaxLine = 512;

std::vector<std::string> read_all(std::span<const std::uint8_t> bytes, std::size_t buffer,
                                  tools::ReportBuilder* report) {
  const int fd = ::memfd_create("audit", 0);
  if (fd < 0) std::abort();
  if (!bytes.empty() &&
      ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    std::abort();
  ::lseek(fd, 0, SEEK_SET);
  tools::AuditFile file(fd, "fuzz", {buffer, kMaxLine});
  tools::AuditLineParser parser;
  std::vector<std::string> lines;
  std::string_view line;
  tools::AuditRecord record;
  while (file.next(line)) {
    if (line.size() >= kMaxLine) std::abort();
    lines.emplace_back(line);
    if (!report) continue;
    const auto error =
        parser.parse(line.data(), line.size(), line.size() + tools::kLinePadding, record);
    if (error == tools::LineError::None) {
      report->add(record);
    } else {
      report->add_malformed();
    }
  }
  lines.push_back("error: " + file.error());
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256 * 1024) return 0;
  fuzz::FuzzInput input(data, size);
  const std::size_t buffer = kMaxLine + input.byte() * 7;
  const auto bytes = input.rest();

  tools::ReportLimits limits;
  limits.max_rows = 4;
  limits.max_client_entries = 8;
  limits.max_buckets = 8;
  tools::ReportBuilder builder(limits);
  const auto lines = read_all(bytes, buffer, &builder);
  if (read_all(bytes, 64 * 1024, nullptr) != lines) std::abort();

  const tools::Report report = std::move(builder).finish();
  if (report.denials.rows.size() > limits.max_rows + 1) std::abort();
  if (report.series.size() > limits.max_buckets) std::abort();
  const std::string text = tools::render_text(report, 5);
  const std::string html = tools::render_html(report, 5);
  if (html.find("<script") != std::string::npos) std::abort();
  return 0;
}
