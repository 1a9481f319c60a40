// The report's bounds: tables fold keys past their limit into "(other)" and
// say so, distinct clients become lower bounds past their budget, the time
// series widens its buckets; times given as dates, timestamps or durations.
#include <catch2/catch.hpp>

#include <chokepoint/tools/report.hpp>

using namespace chokepoint;
using namespace chokepoint::tools;

namespace {

constexpr std::int64_t kDay = 86400LL * 1000000;
constexpr std::int64_t kStart = 1795996800LL * 1000000;  // 2026-11-30T00:00:00Z

AuditRecord record(audit::Event event, std::string_view host, std::string_view client,
                   std::int64_t ts) {
  AuditRecord r;
  r.ts_micros = ts;
  r.event = event;
  r.host = host;
  r.port = 443;
  r.client = client;
  r.role = "agent";
  r.decision = event == audit::Event::Deny ? "deny" : "allow";
  r.reason = event == audit::Event::Deny ? "no_matching_rule" : "rule_allows";
  r.rule = event == audit::Event::Deny ? "" : "spn-smart-scan";
  r.service = event == audit::Event::Deny ? "" : "Smart Scan";
  return r;
}

const ReportRow* find_row(const ReportTable& table, std::string_view first_key) {
  for (const auto& row : table.rows) {
    if (!row.key.empty() && row.key[0] == first_key) return &row;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("report: totals, refusals, audit mode, bytes", "[tools][report]") {
  ReportBuilder builder;
  auto open = record(audit::Event::Open, "ds20.icrc.trendmicro.com", "10.0.8.1:1000", kStart);
  builder.add(open);
  auto close = open;
  close.event = audit::Event::Close;
  close.bytes_up = 100;
  close.bytes_down = 1000;
  builder.add(close);
  auto would = record(audit::Event::Open, "github.com", "10.0.8.2:1000", kStart + 1);
  would.decision = "deny";
  would.enforced = false;
  would.rule = "";
  would.service = "";
  would.reason = "port_not_allowed";
  would.detail = "rule 'download-center' names it on ports 80,443, not on port 8443";
  builder.add(would);
  builder.add(record(audit::Event::Deny, "evil.example", "10.0.8.2:1001", kStart + 2));
  // A summary record: itself and three refusals it stands for.
  auto summary = record(audit::Event::Deny, "evil.example", "10.0.8.3:1001", kStart + 3);
  summary.suppressed = 3;
  builder.add(summary);
  auto error = record(audit::Event::Error, "files.trendmicro.com", "10.0.8.3:1002", kStart + 4);
  error.reason = "connect_timeout";
  builder.add(error);
  builder.add_malformed();
  const Report report = std::move(builder).finish();

  CHECK(report.records == 6);
  CHECK(report.malformed_lines == 1);
  CHECK(report.connections == 2);
  CHECK(report.would_deny == 1);
  CHECK(report.denied == 5);
  CHECK(report.errors == 1);
  CHECK(report.bytes_up == 100);
  CHECK(report.bytes_down == 1000);
  const ReportRow* scan = find_row(report.services, "Smart Scan");
  REQUIRE(scan);
  CHECK(scan->connections == 1);
  CHECK(scan->bytes_down == 1000);
  CHECK(scan->clients == 1);
  const ReportRow* evil = find_row(report.denials, "evil.example:443");
  REQUIRE(evil);
  CHECK(evil->denied == 5);
  CHECK(evil->clients == 2);
  CHECK(evil->first_micros == kStart + 2);
  CHECK(evil->last_micros == kStart + 3);
  const ReportRow* github = find_row(report.would_denials, "github.com:443");
  REQUIRE(github);
  CHECK(github->closest_rule == "download-center");
  const ReportRow* timeout = find_row(report.errors_by_reason, "connect_timeout");
  REQUIRE(timeout);
  CHECK(timeout->errors == 1);
  const ReportRow* agents = find_row(report.roles, "agent");
  REQUIRE(agents);
  CHECK(agents->clients == 3);
  CHECK(report.clients.rows.size() == 3);

  const std::string text = render_text(report, 10);
  CHECK(
      text.find("connections 2 (1 of them would be refused when enforced), refused 5, errors 1") !=
      std::string::npos);
  const std::string html = render_html(report, 10);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("evil.example:443") != std::string::npos);
}

TEST_CASE("report: bounded tables fold into (other) and say so", "[tools][report]") {
  ReportLimits limits;
  limits.max_rows = 3;
  limits.max_client_entries = 4;
  ReportBuilder builder(limits);
  for (int i = 0; i < 10; ++i) {
    const std::string host = "host" + std::to_string(i) + ".example";
    const std::string client = "10.0.0." + std::to_string(i) + ":1";
    builder.add(record(audit::Event::Deny, host, client, kStart + i));
    builder.add(record(audit::Event::Deny, "host0.example", client, kStart + i));
  }
  const Report report = std::move(builder).finish();
  REQUIRE(report.denials.rows.size() == 4);
  CHECK(report.denials.rows.back().key == std::vector<std::string>{"(other)"});
  CHECK(report.denials.rows.back().denied == 7);
  CHECK(report.denials.folded);
  const ReportRow* host0 = find_row(report.denials, "host0.example:443");
  REQUIRE(host0);
  CHECK(host0->denied == 11);
  // Four client entries for the whole table: host0 is counted as far as they went.
  CHECK(host0->clients_lower_bound);
  CHECK(host0->clients <= 4);
  const std::string text = render_text(report, 10);
  CHECK(text.find("past 3 distinct keys, the rest is counted in (other)") != std::string::npos);
  CHECK(text.find("+") != std::string::npos);
}

TEST_CASE("report: the time series widens to stay bounded", "[tools][report]") {
  ReportLimits limits;
  limits.max_buckets = 50;
  ReportBuilder builder(limits);
  for (int hour = 0; hour < 24 * 30; ++hour) {
    builder.add(
        record(audit::Event::Open, "a.example", "10.0.0.1:1", kStart + hour * 3600LL * 1000000));
  }
  const Report report = std::move(builder).finish();
  CHECK(report.series.size() <= 50);
  CHECK(report.bucket_micros == kDay);  // 30 days of hours: daily buckets
  std::uint64_t total = 0;
  for (const auto& bucket : report.series)
    total += bucket.connections;
  CHECK(total == 24 * 30);
}

TEST_CASE("report: --since and --until", "[tools][report]") {
  const std::int64_t now = kStart + kDay;
  CHECK(parse_time_bound("2026-11-30", now) == kStart);
  CHECK(parse_time_bound("2026-11-30T01:00", now) == kStart + 3600LL * 1000000);
  CHECK(parse_time_bound("2026-11-30 01:00:00", now) == kStart + 3600LL * 1000000);
  CHECK(parse_time_bound("2026-11-30T01:00:00+01:00", now) == kStart);
  CHECK(parse_time_bound("24h", now) == kStart);
  CHECK(parse_time_bound("1d", now) == kStart);
  CHECK(parse_time_bound("90m", now) == now - 90LL * 60 * 1000000);
  for (const char* bad : {"", "h", "yesterday", "2026-11-31x", "-1h", "1y"})
    CHECK_FALSE(parse_time_bound(bad, now));

  ReportLimits limits;
  limits.since_micros = kStart + 10;
  limits.until_micros = kStart + 20;
  ReportBuilder builder(limits);
  for (int i = 0; i < 30; ++i)
    builder.add(record(audit::Event::Open, "a.example", "10.0.0.1:1", kStart + i));
  const Report report = std::move(builder).finish();
  CHECK(report.records == 10);
  CHECK(report.skipped_by_time == 20);
}

namespace {

AuditRecord on_computer(AuditRecord r, std::string_view name, std::uint64_t id) {
  r.computer = name;
  r.computer_id = id;
  r.identity = "inventory";
  return r;
}

AuditRecord closed(AuditRecord r, std::uint64_t up, std::uint64_t down) {
  r.event = audit::Event::Close;
  r.bytes_up = up;
  r.bytes_down = down;
  return r;
}

const ReportRow* find_client(const ReportTable& clients, std::string_view computer,
                             std::string_view address) {
  for (const auto& row : clients.rows) {
    if (row.key.size() == 4 && row.key[1] == computer && row.key[2] == address) return &row;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("report: a computer is one client whatever its addresses; two of one name are two",
          "[tools][report]") {
  ReportBuilder builder;
  const auto web = [](std::string_view client, std::uint64_t id, std::int64_t ts) {
    return on_computer(record(audit::Event::Open, "ds20.icrc.trendmicro.com", client, ts), "web-01",
                       id);
  };
  // Computer 42 from two addresses (and two ports on one), the later one seen first.
  builder.add(web("10.0.8.2:2000", 42, kStart + 5));
  builder.add(closed(web("10.0.8.2:2000", 42, kStart + 6), 10, 100));
  builder.add(web("10.0.8.1:1000", 42, kStart + 1));
  builder.add(web("10.0.8.1:3000", 42, kStart + 7));
  auto refused = on_computer(
      record(audit::Event::Deny, "evil.example", "10.0.8.1:3001", kStart + 8), "web-01", 42);
  builder.add(refused);
  // Another computer the manager also calls web-01.
  builder.add(web("10.0.8.3:1000", 43, kStart + 2));
  // A client the inventory did not know: its row is its address, as before.
  builder.add(record(audit::Event::Open, "ds20.icrc.trendmicro.com", "10.0.8.9:1000", kStart + 3));
  const Report report = std::move(builder).finish();

  CHECK(report.clients.key_columns ==
        std::vector<std::string>{"role", "computer", "address", "user"});
  REQUIRE(report.clients.rows.size() == 3);
  const ReportRow* first = find_client(report.clients, "web-01 (ID 42)", "10.0.8.1 +1");
  REQUIRE(first);
  CHECK(first->key[0] == "agent");
  CHECK(first->connections == 3);
  CHECK(first->denied == 1);
  CHECK(first->bytes_down == 100);
  CHECK(first->addresses == 2);
  CHECK(first->address == "10.0.8.1");
  const ReportRow* second = find_client(report.clients, "web-01 (ID 43)", "10.0.8.3");
  REQUIRE(second);
  CHECK(second->connections == 1);
  const ReportRow* plain = find_client(report.clients, "", "10.0.8.9");
  REQUIRE(plain);
  CHECK(plain->connections == 1);
  CHECK(plain->addresses == 0);
  // Distinct clients count a computer once too.
  const ReportRow* agents = find_row(report.roles, "agent");
  REQUIRE(agents);
  CHECK(agents->clients == 3);

  const std::string text = render_text(report, 10);
  CHECK(text.find("web-01 (ID 42)  10.0.8.1 +1") != std::string::npos);
  CHECK(text.find("web-01 (ID 43)  10.0.8.3") != std::string::npos);
}

TEST_CASE("report: the destinations let out, with their bytes and distinct clients",
          "[tools][report]") {
  ReportBuilder builder;
  const auto ds20 = [](std::string_view client, std::int64_t ts) {
    return on_computer(record(audit::Event::Open, "ds20.icrc.trendmicro.com", client, ts), "web-01",
                       42);
  };
  builder.add(ds20("10.0.8.1:1000", kStart + 1));
  builder.add(closed(ds20("10.0.8.1:1000", kStart + 2), 100, 1000));
  builder.add(ds20("10.0.8.2:1000", kStart + 3));  // the same computer: one client
  builder.add(closed(ds20("10.0.8.2:1000", kStart + 4), 20, 200));
  auto other = record(audit::Event::Open, "ds20.icrc.trendmicro.com", "10.0.8.9:1000", kStart + 5);
  builder.add(other);
  builder.add(closed(other, 3, 30));
  // Let out in audit mode although enforcing would refuse it: a row, marked.
  auto would = record(audit::Event::Open, "github.com", "10.0.8.9:1001", kStart + 6);
  would.decision = "deny";
  would.enforced = false;
  would.rule = "";
  would.service = "";
  would.reason = "no_matching_rule";
  builder.add(would);
  builder.add(closed(would, 7, 70));
  // Refused: not a destination let out.
  builder.add(record(audit::Event::Deny, "evil.example", "10.0.8.9:1002", kStart + 7));
  const Report report = std::move(builder).finish();

  const ReportTable& table = report.destinations;
  CHECK(table.key_columns == std::vector<std::string>{"destination", "service", "rule"});
  REQUIRE(table.rows.size() == 2);
  const ReportRow& ds20_row = table.rows[0];  // busiest first
  CHECK(ds20_row.key ==
        std::vector<std::string>{"ds20.icrc.trendmicro.com:443", "Smart Scan", "spn-smart-scan"});
  CHECK(ds20_row.connections == 3);
  CHECK(ds20_row.would_deny == 0);
  CHECK(ds20_row.clients == 2);
  CHECK(ds20_row.bytes_up == 123);
  CHECK(ds20_row.bytes_down == 1230);
  CHECK(ds20_row.first_micros == kStart + 1);
  CHECK(ds20_row.last_micros == kStart + 5);
  const ReportRow& github = table.rows[1];
  CHECK(github.key ==
        std::vector<std::string>{"github.com:443", "(no rule: refused when enforced)", "-"});
  CHECK(github.connections == 1);
  CHECK(github.would_deny == 1);
  CHECK(github.bytes_down == 70);
  CHECK_FALSE(find_row(table, "evil.example:443"));

  const std::string text = render_text(report, 10);
  CHECK(text.find("\nDestinations let out (2)\n") != std::string::npos);
  CHECK(text.find("ds20.icrc.trendmicro.com:443  Smart Scan") != std::string::npos);
  const std::string html = render_html(report, 10);
  CHECK(html.find("<h2>Destinations let out</h2>") != std::string::npos);
  CHECK(html.find("<td class=\"key\">github.com:443</td>") != std::string::npos);
}

TEST_CASE("report: destinations and computers are bounded like the other tables",
          "[tools][report]") {
  ReportLimits limits;
  limits.max_rows = 3;
  limits.max_client_entries = 4;
  ReportBuilder builder(limits);
  for (int i = 0; i < 10; ++i) {
    const std::string host = "host" + std::to_string(i) + ".example";
    const std::string client = "10.0.0." + std::to_string(i) + ":1";
    // Each host let out once, host0 ten times; all from one computer's ten addresses.
    builder.add(on_computer(record(audit::Event::Open, host, client, kStart + i), "db", 7));
    builder.add(
        on_computer(record(audit::Event::Open, "host0.example", client, kStart + i), "db", 7));
    // And ten computers that the table cannot all keep.
    builder.add(on_computer(record(audit::Event::Open, "host0.example", client, kStart + i),
                            "vm" + std::to_string(i), 100 + i));
  }
  const Report report = std::move(builder).finish();

  const ReportTable& destinations = report.destinations;
  REQUIRE(destinations.rows.size() == 4);
  CHECK(destinations.folded);
  CHECK(destinations.rows.back().key == std::vector<std::string>{"(other)"});
  CHECK(destinations.rows.back().connections == 7);
  CHECK(destinations.rows.front().key[0] == "host0.example:443");
  CHECK(destinations.rows.front().connections == 21);
  // Eleven computers, four client entries for the whole table: a lower bound.
  CHECK(destinations.rows.front().clients_lower_bound);
  CHECK(destinations.rows.front().clients <= 4);

  const ReportTable& clients = report.clients;
  REQUIRE(clients.rows.size() == 4);
  CHECK(clients.folded);
  CHECK(clients.rows.back().key == std::vector<std::string>{"(other)"});
  const ReportRow& db = clients.rows.front();
  CHECK(db.key[1] == "db (ID 7)");
  CHECK(db.connections == 20);
  // Ten addresses, four entries: shown as at least that many.
  CHECK(db.addresses_lower_bound);
  CHECK(db.addresses <= 4);
  CHECK(db.key[2] == "10.0.0.0 +" + std::to_string(db.addresses - 1) + " or more");
  const std::string text = render_text(report, 10);
  CHECK(text.find("Destinations let out (4)") != std::string::npos);
}
