#include "status_page.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include <chokepoint/policy/catalogs.hpp>

namespace chokepoint::control {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

constexpr std::string_view kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:1.2em;color:#1d2330;background:#f6f7f9}
h1{font-size:20px;margin:0 0 .2em}h2{font-size:16px;margin:1.4em 0 .4em}
.sub{color:#5b6475}
table{border-collapse:collapse;background:#fff;box-shadow:0 0 0 1px #d9dde5;margin-bottom:.4em}
th,td{padding:3px 9px;text-align:left;border-bottom:1px solid #e6e9ef;vertical-align:top}
th{background:#eef1f5;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#146c2e;font-weight:600}.bad{color:#b3261e;font-weight:600}
.detail{color:#5b6475;max-width:42em;word-break:break-word}
.grid{display:flex;flex-wrap:wrap;gap:2em}
code{font-size:13px}
)";

void cell(std::string& out, std::string_view text, bool number = false) {
  out += number ? "<td class=\"n\">" : "<td>";
  out += html_escape(text);
  out += "</td>";
}

void number_cell(std::string& out, std::uint64_t value) {
  cell(out, std::to_string(value), true);
}

std::string bytes(std::uint64_t n) {
  constexpr std::array<const char*, 5> units = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(n);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < units.size()) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

std::string age(std::chrono::steady_clock::duration d) {
  const auto s = duration_cast<seconds>(d).count();
  char text[32];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%lldm %02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(text, sizeof text, "%lldh %02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  }
  return text;
}

std::string destination(const audit::Record& r) {
  if (r.host.empty()) return "";
  const bool v6 = r.host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + r.host + "]" : r.host;
  return r.port ? out + ":" + std::to_string(r.port) : out;
}

std::string or_dash(std::string_view text) {
  return text.empty() ? "-" : std::string(text);
}

void head_row(std::string& out, std::initializer_list<std::string_view> names) {
  out += "<tr>";
  for (const auto name : names) {
    out += "<th>";
    out += name;  // our own words
    out += "</th>";
  }
  out += "</tr>";
}

void section_overview(std::string& out, const StatusPage& page) {
  out += "<h1>chokepoint</h1><p class=\"sub\">";
  out += page.ready ? "<span class=\"ok\">ready</span>" : "<span class=\"bad\">not ready</span>";
  if (!page.ready) out += ": " + html_escape(page.not_ready);
  out += " &middot; " + html_escape(audit::format_timestamp(page.now)) +
         " &middot; refreshes every " + std::to_string(page.refresh.count()) + " s &middot; " +
         std::to_string(page.tunnels_open) + " open tunnels &middot; " +
         std::to_string(page.traffic.handshakes) + " in their handshake</p>\n";
}

void section_tunnels(std::string& out, const StatusPage& page) {
  out += "<h2 id=\"tunnels\">Open tunnels (" + std::to_string(page.tunnels_open) + ")</h2>\n";
  if (page.tunnels.empty()) {
    out += "<p class=\"sub\">none</p>\n";
    return;
  }
  out += "<table>";
  head_row(out, {"client", "user", "role", "destination", "rule", "service", "up", "down", "age"});
  for (const auto& t : page.tunnels) {
    out += "\n<tr>";
    cell(out, t.facts.computer.empty() ? t.facts.client
                                       : t.facts.client + " (" + t.facts.computer + ")");
    cell(out, or_dash(t.facts.user));
    cell(out, or_dash(t.facts.role));
    cell(out, destination(t.facts));
    cell(out, or_dash(t.facts.rule));
    cell(out, or_dash(t.facts.service));
    cell(out, t.waiting_for_client ? "waiting for the client's first bytes" : bytes(t.bytes_up),
         true);
    cell(out, bytes(t.bytes_down), true);
    cell(out, age(t.age), true);
    out += "</tr>";
  }
  out += "</table>\n";
  if (page.tunnels_open > page.tunnels.size()) {
    out += "<p class=\"sub\">" + std::to_string(page.tunnels_open - page.tunnels.size()) +
           " more not shown; /connections lists them all</p>\n";
  }
}

void section_refusals(std::string& out, const StatusPage& page) {
  out += "<h2 id=\"denials\">Last denials and errors</h2>\n";
  if (page.refusals.empty()) {
    out += "<p class=\"sub\">none since start</p>\n";
    return;
  }
  out += "<table>";
  head_row(out, {"time", "event", "client", "role", "destination", "reason", "rule", "detail"});
  for (const auto& r : page.refusals) {
    out += "\n<tr>";
    cell(out, audit::format_timestamp(r.ts).substr(11, 8));
    cell(out, audit::to_string(r.event));
    cell(out, r.client);
    cell(out, or_dash(r.role));
    cell(out, or_dash(destination(r)));
    std::string reason(audit::to_string(r.reason));
    if (r.suppressed) reason += " (and " + std::to_string(r.suppressed) + " more)";
    if (!r.enforced) reason += " (not enforced)";
    cell(out, reason);
    cell(out, or_dash(r.rule));
    out += "<td class=\"detail\">" + html_escape(r.detail) + "</td>";
    out += "</tr>";
  }
  out += "</table>\n";
}

void section_services(std::string& out, const StatusPage& page) {
  struct Row {
    std::uint64_t allow = 0, deny = 0, log = 0, up = 0, down = 0;
  };
  std::map<std::string, Row> rows;
  for (const auto& [key, n] : page.traffic.decisions) {
    // decision \x1f role \x1f rule \x1f service
    const auto decision = key.substr(0, key.find('\x1f'));
    const auto service = key.substr(key.rfind('\x1f') + 1);
    Row& row = rows[service];
    (decision == "allow" ? row.allow : decision == "log" ? row.log : row.deny) += n;
  }
  for (const auto& [service, b] : page.traffic.service_bytes) {
    rows[service].up += b[0];
    rows[service].down += b[1];
  }
  out += "<h2 id=\"services\">Decisions and bytes per service</h2>\n";
  if (rows.empty()) {
    out += "<p class=\"sub\">no decision yet</p>\n";
    return;
  }
  out += "<table>";
  head_row(out, {"service", "allowed", "logged", "denied", "bytes up", "bytes down"});
  for (const auto& [service, row] : rows) {
    out += "\n<tr>";
    cell(out, service.empty() ? "(no rule)" : service);
    number_cell(out, row.allow);
    number_cell(out, row.log);
    number_cell(out, row.deny);
    cell(out, bytes(row.up), true);
    cell(out, bytes(row.down), true);
    out += "</tr>";
  }
  out +=
      "</table>\n<p class=\"sub\">Bytes of the tunnels and requests that have ended; open "
      "ones count above.</p>\n";
  if (!page.traffic.refusals.empty()) {
    out += "<table>";
    head_row(out, {"refusal reason", "count"});
    for (const auto& [reason, n] : page.traffic.refusals) {
      out += "\n<tr>";
      cell(out, reason);
      number_cell(out, n);
      out += "</tr>";
    }
    out += "</table>\n";
  }
}

void section_reachability(std::string& out, const StatusPage& page) {
  if (!page.probe || !page.probe->enabled) return;
  const probe::WatchView& v = page.probe->view;
  std::size_t failing = 0;
  for (const auto& w : v.watched)
    failing += probe::is_failure(w.result.outcome) ? 1 : 0;
  out += "<h2 id=\"reachability\">Reachability</h2>\n<p class=\"sub\">";
  const auto ms = v.interval.count();
  out += std::to_string(v.targets) + " destinations probed every " +
         (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s; " : std::to_string(ms) + " ms; ");
  out += failing ? "<span class=\"bad\">" + std::to_string(failing) + " unreachable</span>"
                 : std::string("<span class=\"ok\">none unreachable</span>");
  if (v.last_probe != std::chrono::system_clock::time_point{}) {
    out += " &middot; last probe " +
           age(duration_cast<std::chrono::steady_clock::duration>(page.now - v.last_probe)) +
           " ago";
  } else {
    out += " &middot; not probed yet";
  }
  out += "</p>\n";
  if (v.watched.empty()) return;
  out += "<table>";
  head_row(out, {"outcome", "destination", "service", "role", "detail", "since"});
  std::size_t shown = 0;
  for (const auto& w : in_page_order(v)) {
    if (shown++ == kShownProbes) break;
    const probe::Result& r = w.result;
    const bool up = r.outcome == probe::Outcome::Ok;
    out += "\n<tr><td class=\"";
    out += up ? "ok" : "bad";
    out += "\">";
    out += probe::to_string(r.outcome);  // our own words
    out += "</td>";
    const bool v6 = r.target.host.name.find(':') != std::string::npos;
    cell(out, (v6 ? "[" + r.target.host.name + "]" : r.target.host.name) + ":" +
                  std::to_string(r.target.port));
    cell(out, or_dash(w.service));
    cell(out, or_dash(w.role));
    out += "<td class=\"detail\">" + html_escape(r.detail) + "</td>";
    cell(out, age(duration_cast<std::chrono::steady_clock::duration>(page.now - w.since)) + " ago");
    out += "</tr>";
  }
  out +=
      "</table>\n<p class=\"sub\"><a href=\"/probe\">/probe</a> has every step's time, "
      "the addresses and the certificates presented</p>\n";
}

void section_audit(std::string& out, const StatusPage& page) {
  out += "<div><h2 id=\"audit\">Audit log</h2>\n<p>";
  out += page.audit_available
             ? "<span class=\"ok\">writing</span>"
             : "<span class=\"bad\">cannot write</span>: " + html_escape(page.audit_unavailable);
  out += page.audit_refuse ? " &middot; on failure: refuse new connections"
                           : " &middot; on failure: continue (losses counted)";
  out += "</p>\n<table>";
  head_row(out, {"sink", "written", "lost", "now"});
  for (const auto& sink : page.sinks) {
    out += "\n<tr>";
    cell(out, sink.name);
    number_cell(out, sink.stats.written);
    number_cell(out, sink.stats.lost);
    out += sink.health.failing
               ? "<td class=\"bad\">failing: " + html_escape(sink.health.error) + "</td>"
               : std::string("<td class=\"ok\">ok</td>");
    out += "</tr>";
  }
  out += "\n<tr><td>refused by a full queue</td><td class=\"n\">-</td>";
  number_cell(out, page.audit_dropped);
  out += "<td></td></tr></table></div>\n";
}

// The manager's computer list, when the policy takes clients from it.
void section_inventory(std::string& out, const StatusPage& page) {
  if (!page.inventory || page.inventory->url.empty()) return;
  const InventoryPage& inv = *page.inventory;
  out += "<div><h2 id=\"inventory\">Inventory</h2>\n<table>";
  const auto row = [&](std::string_view name, const std::string& value) {
    out += "\n<tr><th>";
    out += name;
    out += "</th>";
    cell(out, value);
    out += "</tr>";
  };
  row("manager", inv.url);
  if (inv.inventory) {
    const inventory::Inventory& map = *inv.inventory;
    row("applies", std::to_string(map.computers()) + " computers, " + std::to_string(map.relays()) +
                       " relays, " + std::to_string(map.addresses()) + " addresses, " +
                       std::to_string(map.ambiguous().size()) + " ambiguous");
    row("fetched", age(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       inv.now - inv.status.last_good)) +
                       " ago");
  } else {
    row("applies", "no: clients are who the clients entries say" +
                       std::string(inv.required ? " (required: not ready)" : ""));
  }
  std::uint64_t failed = 0;
  for (const auto& [error, count] : inv.status.failures)
    failed += count;
  row("refreshes",
      std::to_string(inv.status.refreshes) + " good, " + std::to_string(failed) + " failed");
  if (!inv.status.last_error.empty()) row("last error", inv.status.last_error);
  out +=
      "</table>\n<p class=\"sub\"><a href=\"/inventory\">/inventory</a> lists every "
      "address</p></div>\n";
}

void section_policy(std::string& out, const StatusPage& page) {
  out += "<div><h2 id=\"policy\">Policy</h2>\n<table>";
  if (const RunningPolicy* p = page.policy) {
    const auto row = [&](std::string_view name, const std::string& value) {
      out += "\n<tr><th>";
      out += name;
      out += "</th>";
      cell(out, value);
      out += "</tr>";
    };
    row("source", p->source);
    if (p->snapshot) {
      std::string catalogs;
      for (const auto& loaded : policy::loaded_catalogs(p->snapshot->policy()))
        catalogs += (catalogs.empty() ? "" : ", ") + policy::describe(loaded);
      row("catalogs", catalogs.empty() ? "none built in" : catalogs);
    }
    row("sha256", p->sha256.substr(0, 16) + "...");
    row("rules", std::to_string(p->rules));
    row("generation", std::to_string(p->generation));
    row("loaded", audit::format_timestamp(p->loaded_at));
    row("reloads",
        std::to_string(p->reloads) + " taken, " + std::to_string(p->reload_failures) + " refused");
    const LastReload& last = page.last_reload;
    if (last.at.time_since_epoch().count() != 0) {
      row("last reload", audit::format_timestamp(last.at) + " (" + last.why +
                             "): " + (last.ok ? "taken" : "refused, the running policy stays"));
      out += "\n<tr><th>its message</th><td class=\"detail\"><pre>" + html_escape(last.message) +
             "</pre></td></tr>";
    } else {
      row("last reload", "none since start");
    }
  }
  out += "</table></div>\n";
}

void section_dns(std::string& out, const StatusPage& page) {
  const net::DnsStats& d = page.dns;
  out += "<div><h2 id=\"dns\">DNS cache</h2>\n<table>";
  head_row(out, {"names", "lookups", "hits", "misses", "coalesced", "stale", "queries", "failed",
                 "timeouts"});
  out += "\n<tr>";
  for (const std::uint64_t n : {d.cached, d.lookups, d.hits, d.misses, d.coalesced, d.stale,
                                d.queries, d.failed, d.timeouts})
    number_cell(out, n);
  out += "</tr></table>\n";
  if (!page.dns_names.empty()) {
    out += "<table>";
    head_row(out, {"name", "status", "addresses", "TTL left", "hits"});
    for (const auto& item : page.dns_names) {
      out += "\n<tr>";
      cell(out, item.name);
      cell(out, net::to_string(item.status));
      std::string addresses;
      for (const auto& a : item.addresses)
        addresses += (addresses.empty() ? "" : " ") + a.to_string();
      cell(out, or_dash(addresses));
      cell(out, item.ttl_left_ms >= 0 ? std::to_string(item.ttl_left_ms / 1000) + " s" : "expired",
           true);
      number_cell(out, item.hits);
      out += "</tr>";
    }
    out += "</table>\n";
  }
  out += "</div>\n";
}

}  // namespace

std::string render_html(const StatusPage& page) {
  std::string out;
  out.reserve(16 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(page.refresh.count()) + "\">";
  out += "<meta name=\"viewport\" content=\"width=device-width\">";
  out += "<title>chokepoint status</title><style>";
  out += kStyle;
  out += "</style></head><body>\n";
  section_overview(out, page);
  section_tunnels(out, page);
  section_refusals(out, page);
  section_services(out, page);
  section_reachability(out, page);
  out += "<div class=\"grid\">\n";
  section_audit(out, page);
  section_policy(out, page);
  section_inventory(out, page);
  section_dns(out, page);
  out +=
      "</div>\n<p class=\"sub\">Also: <a href=\"/metrics\">/metrics</a> <a "
      "href=\"/connections\">/connections</a> <a href=\"/dns\">/dns</a> <a "
      "href=\"/probe\">/probe</a> <a "
      "href=\"/policy\">/policy</a> <a href=\"/readyz\">/readyz</a></p>\n</body></html>\n";
  return out;
}

}  // namespace chokepoint::control
