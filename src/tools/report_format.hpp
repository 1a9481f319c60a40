// Private to the report renderers: numbers, sizes, times and table shapes
// shared by the terminal and the HTML page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <chokepoint/tools/report.hpp>

namespace chokepoint::tools::detail {

std::string count_text(std::uint64_t n);         // 1,234,567
std::string bytes_text(std::uint64_t n);         // 1.2 GiB
std::string time_text(std::int64_t micros);      // 2026-11-30 12:00:00Z; "-" for 0
std::string duration_text(std::int64_t micros);  // 5 min, 1 h, 1 day
std::string clients_text(const ReportRow& row);  // "12", or "250,000+" past the budget

// The columns each table shows, after its key columns.
enum class Column : std::uint8_t {
  Connections,
  WouldDeny,
  Denied,
  Errors,
  Clients,
  BytesUp,
  BytesDown,
  ClosestRule,
  First,
  Last,
  Example
};
std::string column_title(Column column);
std::string cell(const ReportRow& row, Column column);
bool numeric(Column column);

struct TableView {
  const ReportTable* table;
  std::vector<Column> columns;
};
// The tables of a report in the order they are shown, with their columns.
std::vector<TableView> table_views(const Report& report);

// "files: 3, records: 1,234 (5 malformed lines skipped)"-style notes on what was read.
std::vector<std::string> reading_notes(const Report& report);
// "past 10,000 distinct keys, the rest is counted in (other)" for a table, or "".
std::string folding_note(const ReportTable& table);

// Buckets merged so that at most `count` remain.
std::vector<ReportBucket> merged_series(const Report& report, std::size_t count,
                                        std::int64_t& bucket_micros);

}  // namespace chokepoint::tools::detail
