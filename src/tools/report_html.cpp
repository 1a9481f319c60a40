#include <algorithm>

#include <chokepoint/core/html.hpp>

#include "report_format.hpp"

namespace chokepoint::tools {
namespace {

constexpr std::size_t kChartBuckets = 240;
constexpr int kChartWidth = 960;
constexpr int kChartHeight = 220;
constexpr int kServiceBars = 15;

constexpr std::string_view kStyle = R"CSS(
:root { --ok: #2e7d32; --would: #f9a825; --denied: #c62828; --error: #757575; --ink: #1d2126;
        --muted: #5f6b76; --line: #dde3e8; --band: #f5f7f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 140px; }
.card .n { font-size: 20px; font-weight: 600; }
.card .l { color: var(--muted); font-size: 12px; }
.card.would .n { color: #b07800; } .card.denied .n { color: var(--denied); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.key { word-break: break-all; }
tr:nth-child(even) td { background: #fbfcfd; }
.note { color: var(--muted); font-size: 12px; margin: 4px 0; }
svg { display: block; width: 100%; height: auto; }
svg text { font-size: 11px; fill: var(--muted); }
.ok { fill: var(--ok); } .would { fill: var(--would); } .denied { fill: var(--denied); }
.error { fill: var(--error); } .axis { stroke: var(--line); }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
)CSS";

void card(std::string& out, std::string_view cls, const std::string& number,
          std::string_view label) {
  out += "<div class=\"card ";
  out += cls;
  out += "\"><div class=\"n\">" + html_escape(number) + "</div><div class=\"l\">";
  out += label;
  out += "</div></div>\n";
}

void time_chart(std::string& out, const Report& r) {
  std::int64_t width = 0;
  const auto series = detail::merged_series(r, kChartBuckets, width);
  if (series.empty() || width <= 0) return;
  const std::int64_t origin = series.front().start_micros;
  const std::size_t slots =
      static_cast<std::size_t>((series.back().start_micros - origin) / width) + 1;
  std::uint64_t peak = 1;
  for (const auto& b : series)
    peak = std::max(peak, b.connections + b.denied + b.errors);
  const int left = 56, top = 10, bottom = 28;
  const int plot_w = kChartWidth - left - 10, plot_h = kChartHeight - top - bottom;
  const double slot_w = static_cast<double>(plot_w) / static_cast<double>(slots);

  out += "<h2>Connections over time</h2>\n<p class=\"note\">" + detail::duration_text(width) +
         " per bar; hover a bar for its numbers.</p>\n";
  out += "<svg viewBox=\"0 0 " + std::to_string(kChartWidth) + " " + std::to_string(kChartHeight) +
         "\" role=\"img\" aria-label=\"connections over time\">\n";
  out += "<line class=\"axis\" x1=\"" + std::to_string(left) + "\" y1=\"" +
         std::to_string(top + plot_h) + "\" x2=\"" + std::to_string(left + plot_w) + "\" y2=\"" +
         std::to_string(top + plot_h) + "\"/>\n";
  out += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(top + 8) +
         "\" text-anchor=\"end\">" + detail::count_text(peak) + "</text>\n";
  out += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(top + plot_h) +
         "\" text-anchor=\"end\">0</text>\n";
  char number[64];
  for (const auto& b : series) {
    const double x = left + slot_w * static_cast<double>((b.start_micros - origin) / width);
    double y = top + plot_h;
    const auto segment = [&](std::uint64_t value, const char* cls) {
      if (value == 0) return;
      const double h = static_cast<double>(value) * plot_h / static_cast<double>(peak);
      y -= h;
      std::snprintf(number, sizeof number, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" ", cls, x, y);
      out += number;
      std::snprintf(number, sizeof number, "width=\"%.1f\" height=\"%.1f\"/>",
                    std::max(slot_w - 0.5, 0.5), h);
      out += number;
    };
    out += "<g><title>" + html_escape(detail::time_text(b.start_micros)) + ": " +
           detail::count_text(b.connections) + " connections (" + detail::count_text(b.would_deny) +
           " would be refused), " + detail::count_text(b.denied) + " refused, " +
           detail::count_text(b.errors) + " errors</title>";
    segment(b.connections - std::min(b.connections, b.would_deny), "ok");
    segment(b.would_deny, "would");
    segment(b.denied, "denied");
    segment(b.errors, "error");
    out += "</g>\n";
  }
  // Time labels: about six, at bucket starts, the last one ending at the edge.
  const std::size_t step = std::max<std::size_t>(1, slots / 6);
  for (std::size_t i = 0; i < slots; i += step) {
    const double x = left + slot_w * static_cast<double>(i);
    const bool near_end = x > kChartWidth - 140;
    std::snprintf(number, sizeof number, "<text x=\"%.1f\" y=\"%d\"%s>",
                  near_end ? kChartWidth - 2.0 : x, kChartHeight - 8,
                  near_end ? " text-anchor=\"end\"" : "");
    out += number + html_escape(detail::time_text(origin + static_cast<std::int64_t>(i) * width)) +
           "</text>\n";
    if (near_end) break;
  }
  out +=
      "</svg>\n<div class=\"legend\"><span><i class=\"ok\" style=\"background:var(--ok)\">"
      "</i>let out</span><span><i style=\"background:var(--would)\"></i>let out, would be "
      "refused</span><span><i style=\"background:var(--denied)\"></i>refused</span><span>"
      "<i style=\"background:var(--error)\"></i>errors</span></div>\n";
}

void service_chart(std::string& out, const ReportTable& table) {
  std::vector<const ReportRow*> rows;
  for (const auto& row : table.rows) {
    if (static_cast<int>(rows.size()) == kServiceBars) break;
    if (row.connections > 0) rows.push_back(&row);
  }
  if (rows.empty()) return;
  const std::uint64_t peak = rows.front()->connections;
  const int bar_h = 18, gap = 6, label_w = 360;
  const int height = static_cast<int>(rows.size()) * (bar_h + gap) + gap;
  out += "<svg viewBox=\"0 0 " + std::to_string(kChartWidth) + " " + std::to_string(height) +
         "\" role=\"img\" aria-label=\"connections per service\">\n";
  char number[96];
  int y = gap;
  for (const auto* row : rows) {
    std::string label = row->key.empty() ? "-" : row->key[0];
    if (row->key.size() > 1 && row->key[1] != "-") label += " (" + row->key[1] + ")";
    if (label.size() > 60) label = label.substr(0, 57) + "...";
    const double w = static_cast<double>(row->connections) * (kChartWidth - label_w - 90) /
                     static_cast<double>(std::max<std::uint64_t>(peak, 1));
    std::snprintf(number, sizeof number, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
                  label_w - 8, y + 13);
    out += number + html_escape(label) + "</text>";
    std::snprintf(number, sizeof number,
                  "<rect class=\"ok\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>", label_w, y,
                  std::max(w, 1.0), bar_h);
    out += number;
    std::snprintf(number, sizeof number, "<text x=\"%.1f\" y=\"%d\">", label_w + w + 6, y + 13);
    out += number + detail::count_text(row->connections) + "</text>\n";
    y += bar_h + gap;
  }
  out += "</svg>\n";
}

void table_html(std::string& out, const detail::TableView& view, std::size_t top, bool heading) {
  const ReportTable& table = *view.table;
  if (heading) out += "<h2>" + html_escape(table.title) + "</h2>\n";
  if (table.rows.empty()) {
    out += "<p class=\"note\">None.</p>\n";
    return;
  }
  const std::size_t shown = std::min(top, table.rows.size());
  if (shown < table.rows.size()) {
    out += "<p class=\"note\">The " + std::to_string(shown) + " busiest of " +
           detail::count_text(table.rows.size()) + " rows.</p>\n";
  }
  if (const auto note = detail::folding_note(table); !note.empty())
    out += "<p class=\"note\">" + html_escape(note) + ".</p>\n";
  out += "<table><thead><tr>";
  for (const auto& column : table.key_columns)
    out += "<th>" + html_escape(column) + "</th>";
  for (const auto column : view.columns)
    out += std::string(detail::numeric(column) ? "<th class=\"num\">" : "<th>") +
           html_escape(detail::column_title(column)) + "</th>";
  out += "</tr></thead><tbody>\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const ReportRow& row = table.rows[i];
    out += "<tr>";
    for (std::size_t k = 0; k < table.key_columns.size(); ++k)
      out += "<td class=\"key\">" +
             html_escape(k < row.key.size() && !row.key[k].empty() ? row.key[k] : "-") + "</td>";
    for (const auto column : view.columns)
      out += std::string(detail::numeric(column) ? "<td class=\"num\">" : "<td>") +
             html_escape(detail::cell(row, column)) + "</td>";
    out += "</tr>\n";
  }
  out += "</tbody></table>\n";
}

}  // namespace

std::string render_html(const Report& r, std::size_t top) {
  std::string out;
  out.reserve(64 << 10);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>chokepoint report</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<h1>chokepoint report</h1>\n";
  for (const auto& note : detail::reading_notes(r))
    out += "<p class=\"meta\">" + html_escape(note) + "</p>\n";
  out += "<div class=\"cards\">\n";
  card(out, "", detail::count_text(r.connections), "connections let out");
  card(out, "would", detail::count_text(r.would_deny), "of them would be refused (audit mode)");
  card(out, "denied", detail::count_text(r.denied), "refused");
  card(out, "", detail::count_text(r.errors), "errors");
  card(out, "", detail::bytes_text(r.bytes_up), "sent by clients");
  card(out, "", detail::bytes_text(r.bytes_down), "received by clients");
  out += "</div>\n";
  time_chart(out, r);
  const auto views = detail::table_views(r);
  bool first = true;
  for (const auto& view : views) {
    if (first) {
      out += "<h2>" + html_escape(view.table->title) + "</h2>\n";
      service_chart(out, *view.table);
      table_html(out, view, top, false);
    } else {
      table_html(out, view, top, true);
    }
    first = false;
  }
  out += "<p class=\"note\">Generated by chokepoint " CHOKEPOINT_VERSION
         " from its audit records.</p>\n</body>\n</html>\n";
  return out;
}

}  // namespace chokepoint::tools
