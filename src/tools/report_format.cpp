#include "report_format.hpp"

#include <ctime>

namespace chokepoint::tools::detail {

std::string count_text(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string bytes_text(std::uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(n);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, kUnits[unit]);
  return text;
}

std::string time_text(std::int64_t micros) {
  if (micros == 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &utc);
  return text;
}

std::string duration_text(std::int64_t micros) {
  const std::int64_t minutes = micros / 60'000'000;
  if (minutes < 60) return std::to_string(minutes) + " min";
  if (minutes < 1440) return std::to_string(minutes / 60) + " h";
  return std::to_string(minutes / 1440) + (minutes / 1440 == 1 ? " day" : " days");
}

std::string clients_text(const ReportRow& row) {
  return count_text(row.clients) + (row.clients_lower_bound ? "+" : "");
}

std::string column_title(Column column) {
  switch (column) {
    case Column::Connections:
      return "connections";
    case Column::WouldDeny:
      return "would refuse";
    case Column::Denied:
      return "refused";
    case Column::Errors:
      return "errors";
    case Column::Clients:
      return "clients";
    case Column::BytesUp:
      return "up";
    case Column::BytesDown:
      return "down";
    case Column::ClosestRule:
      return "closest rule";
    case Column::First:
      return "first";
    case Column::Last:
      return "last";
    case Column::Example:
      return "example";
  }
  return "";
}

std::string cell(const ReportRow& row, Column column) {
  switch (column) {
    case Column::Connections:
      return count_text(row.connections);
    case Column::WouldDeny:
      return count_text(row.would_deny);
    case Column::Denied:
      return count_text(row.denied);
    case Column::Errors:
      return count_text(row.errors);
    case Column::Clients:
      return clients_text(row);
    case Column::BytesUp:
      return bytes_text(row.bytes_up);
    case Column::BytesDown:
      return bytes_text(row.bytes_down);
    case Column::ClosestRule:
      return row.closest_rule.empty() ? "-" : row.closest_rule;
    case Column::First:
      return time_text(row.first_micros);
    case Column::Last:
      return time_text(row.last_micros);
    case Column::Example:
      return row.example.empty() ? "-" : row.example;
  }
  return "";
}

bool numeric(Column column) {
  return column != Column::ClosestRule && column != Column::First && column != Column::Last &&
         column != Column::Example;
}

std::vector<TableView> table_views(const Report& r) {
  using C = Column;
  return {
      {&r.services, {C::Connections, C::Clients, C::BytesUp, C::BytesDown}},
      {&r.destinations,
       {C::Connections, C::WouldDeny, C::Clients, C::BytesUp, C::BytesDown, C::First, C::Last}},
      {&r.roles,
       {C::Connections, C::WouldDeny, C::Denied, C::Errors, C::Clients, C::BytesUp, C::BytesDown}},
      {&r.clients, {C::Connections, C::WouldDeny, C::Denied, C::Errors, C::BytesUp, C::BytesDown}},
      {&r.denials, {C::Denied, C::Clients, C::ClosestRule, C::First, C::Last}},
      {&r.would_denials, {C::WouldDeny, C::Clients, C::ClosestRule, C::First, C::Last}},
      {&r.errors_by_reason, {C::Errors, C::Clients, C::Example}},
  };
}

std::vector<std::string> reading_notes(const Report& r) {
  std::vector<std::string> notes;
  std::string read = count_text(r.records) + " records from " + count_text(r.lines) + " lines in " +
                     count_text(r.sources.size()) + (r.sources.size() == 1 ? " file" : " files") +
                     " (" + bytes_text(r.bytes_read) + ")";
  notes.push_back(read);
  if (r.records > 0)
    notes.push_back("from " + time_text(r.first_micros) + " to " + time_text(r.last_micros));
  if (r.malformed_lines > 0)
    notes.push_back(count_text(r.malformed_lines) + " lines skipped: not audit records");
  if (r.oversized_lines > 0)
    notes.push_back(count_text(r.oversized_lines) + " lines skipped: longer than 1 MiB");
  if (r.skipped_by_time > 0)
    notes.push_back(count_text(r.skipped_by_time) + " records outside --since/--until");
  for (const auto& problem : r.problems)
    notes.push_back("problem: " + problem);
  return notes;
}

std::string folding_note(const ReportTable& table) {
  if (!table.folded) return "";
  return "past " + count_text(table.max_rows) + " distinct keys, the rest is counted in (other)";
}

std::vector<ReportBucket> merged_series(const Report& report, std::size_t count,
                                        std::int64_t& bucket_micros) {
  // Widths people read at a glance, each a multiple of the one before.
  static constexpr std::int64_t kMinute = 60'000'000;
  static constexpr std::int64_t kWidths[] = {kMinute,        5 * kMinute,   15 * kMinute,
                                             60 * kMinute,   360 * kMinute, 1440 * kMinute,
                                             10080 * kMinute};
  bucket_micros = report.bucket_micros;
  if (report.series.empty() || bucket_micros <= 0) return {};
  const auto floor_to = [](std::int64_t t, std::int64_t width) {
    return t - (((t % width) + width) % width);
  };
  const std::int64_t first = report.series.front().start_micros;
  const std::int64_t last = report.series.back().start_micros;
  std::int64_t width = bucket_micros;
  for (const auto candidate : kWidths) {
    if (candidate < bucket_micros || candidate % bucket_micros != 0) continue;
    width = candidate;
    if (static_cast<std::size_t>((floor_to(last, width) - floor_to(first, width)) / width) < count)
      break;
  }
  while (static_cast<std::size_t>((floor_to(last, width) - floor_to(first, width)) / width) >=
         count)
    width *= 2;
  bucket_micros = width;
  std::vector<ReportBucket> out;
  for (const auto& b : report.series) {
    const std::int64_t start = floor_to(b.start_micros, width);
    if (out.empty() || out.back().start_micros != start)
      out.push_back(ReportBucket{start, 0, 0, 0, 0});
    out.back().connections += b.connections;
    out.back().would_deny += b.would_deny;
    out.back().denied += b.denied;
    out.back().errors += b.errors;
  }
  return out;
}

}  // namespace chokepoint::tools::detail
