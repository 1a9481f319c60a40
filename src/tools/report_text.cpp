#include <algorithm>

#include "report_format.hpp"

namespace chokepoint::tools {
namespace {

constexpr std::size_t kMaxCell = 60;
constexpr std::size_t kSeriesLines = 24;
constexpr std::size_t kBarWidth = 40;

// Terminal cells: printable ASCII only (the records' strings may hold anything).
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  if (out.size() > kMaxCell) out = out.substr(0, kMaxCell - 3) + "...";
  return out;
}

void write_table(std::string& out, const detail::TableView& view, std::size_t top) {
  const ReportTable& table = *view.table;
  const std::size_t shown = std::min(top, table.rows.size());
  out += "\n" + table.title;
  if (table.rows.empty()) {
    out += ": none\n";
    return;
  }
  out += " (" + (shown < table.rows.size() ? "top " + std::to_string(shown) + " of " : "") +
         detail::count_text(table.rows.size()) + ")\n";

  std::vector<std::string> header = table.key_columns;
  for (const auto column : view.columns)
    header.push_back(detail::column_title(column));
  std::vector<std::vector<std::string>> lines;
  for (std::size_t i = 0; i < shown; ++i) {
    const ReportRow& row = table.rows[i];
    std::vector<std::string> cells;
    for (std::size_t k = 0; k < table.key_columns.size(); ++k)
      cells.push_back(printable(k < row.key.size() && !row.key[k].empty() ? row.key[k] : "-"));
    for (const auto column : view.columns)
      cells.push_back(printable(detail::cell(row, column)));
    lines.push_back(std::move(cells));
  }
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    widths[c] = header[c].size();
    for (const auto& line : lines)
      widths[c] = std::max(widths[c], line[c].size());
  }
  const auto write_line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool right = c >= table.key_columns.size() &&
                         detail::numeric(view.columns[c - table.key_columns.size()]);
      const std::string pad(widths[c] - cells[c].size(), ' ');
      text += c == 0 ? "  " : "  ";
      text += right ? pad + cells[c] : cells[c] + (c + 1 < cells.size() ? pad : "");
    }
    out += text + "\n";
  };
  write_line(header);
  for (const auto& line : lines)
    write_line(line);
  if (const auto note = detail::folding_note(table); !note.empty()) out += "  (" + note + ")\n";
}

}  // namespace

std::string render_text(const Report& r, std::size_t top) {
  std::string out = "chokepoint report\n";
  for (const auto& note : detail::reading_notes(r))
    out += "  " + note + "\n";
  out += "\n  connections " + detail::count_text(r.connections);
  if (r.would_deny > 0)
    out += " (" + detail::count_text(r.would_deny) + " of them would be refused when enforced)";
  out += ", refused " + detail::count_text(r.denied) + ", errors " + detail::count_text(r.errors) +
         ", up " + detail::bytes_text(r.bytes_up) + ", down " + detail::bytes_text(r.bytes_down) +
         "\n";
  for (const auto& view : detail::table_views(r))
    write_table(out, view, top);

  std::int64_t width = 0;
  const auto series = detail::merged_series(r, kSeriesLines, width);
  if (!series.empty()) {
    out += "\nConnections over time (" + detail::duration_text(width) + " buckets)\n";
    std::uint64_t peak = 1;
    for (const auto& b : series)
      peak = std::max(peak, b.connections + b.denied + b.errors);
    out += "  start                 connections  would refuse  refused  errors\n";
    for (const auto& b : series) {
      char line[160];
      std::snprintf(line, sizeof line, "  %-20s %12s %13s %8s %7s  ",
                    detail::time_text(b.start_micros).c_str(),
                    detail::count_text(b.connections).c_str(),
                    detail::count_text(b.would_deny).c_str(), detail::count_text(b.denied).c_str(),
                    detail::count_text(b.errors).c_str());
      out += line;
      const std::size_t bar =
          static_cast<std::size_t>((b.connections + b.denied + b.errors) * kBarWidth / peak);
      out += std::string(bar, '#') + "\n";
    }
  }
  return out;
}

}  // namespace chokepoint::tools
