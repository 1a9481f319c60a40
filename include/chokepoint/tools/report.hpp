// `chokepoint report`: what the audit records say, summed up.
//
// Per service and rule: connections, bytes up and down, distinct clients.
// Per destination let out (host:port, with its service and rule): the same,
// with first and last seen. Per role, and per client within it (a computer
// the proxy's inventory named is one client whatever its addresses):
// connections, refusals, errors, bytes.
// Refusals grouped by destination and reason, with the rule that came
// closest (from the record's detail); in audit mode, what would have been
// refused, separately; errors by reason; connections over time.
//
// Memory is bounded whatever the input: each table keeps at most
// `max_rows` keys and folds later ones into an "(other)" row (and says so);
// distinct clients are counted exactly up to `max_client_entries` per table,
// then shown as lower bounds; the time series merges its buckets (1 minute,
// 5, 15, 1 hour, 6, 1 day, 1 week) to stay under 1,500. Records are added one
// at a time and never kept. Merging partial sums (one per thread) gives the
// same tables as one pass, except which keys get rows once a table is full,
// and which clients are counted once its budget is spent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/tools/audit_reader.hpp>

namespace chokepoint::tools {

struct ReportLimits {
  std::size_t max_rows = 10000;              // per table
  std::size_t max_client_entries = 250000;   // distinct (row, client) pairs per table
  std::size_t max_buckets = 1500;            // time series
  std::optional<std::int64_t> since_micros;  // records before are skipped
  std::optional<std::int64_t> until_micros;  // records at or after are skipped
};

// One row of a table. Which columns mean something depends on the table.
struct ReportRow {
  std::vector<std::string> key;  // e.g. {service, rule}; {"(other)"} for the folded row
  std::uint64_t connections = 0;
  std::uint64_t denied = 0;      // refusals (enforced)
  std::uint64_t would_deny = 0;  // audit mode: let out, would have been refused
  std::uint64_t errors = 0;
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  std::uint64_t clients = 0;
  bool clients_lower_bound = false;  // the table ran out of client entries
  std::int64_t first_micros = 0;
  std::int64_t last_micros = 0;
  std::string closest_rule;  // denials: the rule the detail names, if any
  std::string example;       // denials and errors: one record's detail
  // Clients that are computers: the first address one came from, and how
  // many distinct addresses (a lower bound once the table's client entries ran out).
  std::string address;
  std::uint64_t addresses = 0;
  bool addresses_lower_bound = false;
};

struct ReportTable {
  std::string title;
  std::vector<std::string> key_columns;
  std::vector<ReportRow> rows;  // sorted, busiest first; "(other)" last when there is one
  bool folded = false;          // keys past max_rows were counted in "(other)"
  std::size_t max_rows = 0;
};

struct ReportBucket {
  std::int64_t start_micros = 0;
  std::uint64_t connections = 0, would_deny = 0, denied = 0, errors = 0;
};

struct Report {
  // What was read.
  std::vector<std::string> sources;
  std::uint64_t lines = 0;
  std::uint64_t records = 0;
  std::uint64_t malformed_lines = 0;  // not JSON, or JSON but not a record
  std::uint64_t oversized_lines = 0;
  std::uint64_t skipped_by_time = 0;
  std::uint64_t bytes_read = 0;
  std::int64_t first_micros = 0, last_micros = 0;
  std::vector<std::string> problems;  // unreadable or truncated inputs

  // Totals.
  std::uint64_t connections = 0;  // open records (allowed, logged, or let out in audit mode)
  std::uint64_t denied = 0;       // deny records
  std::uint64_t would_deny = 0;   // open records with "enforced": false
  std::uint64_t errors = 0;
  std::uint64_t bytes_up = 0, bytes_down = 0;

  ReportTable services;      // key: service, rule
  ReportTable destinations;  // key: host:port, service, rule; what was let out
  ReportTable roles;         // key: role
  // key: role, computer, address, user: a computer's rows are one whatever
  // its addresses ("10.0.8.23 +2"); a client without one, one per address.
  ReportTable clients;
  ReportTable denials;  // key: host:port, reason
  ReportTable would_denials;
  ReportTable errors_by_reason;  // key: reason
  std::int64_t bucket_micros = 0;
  std::vector<ReportBucket> series;
};

class ReportBuilder {
 public:
  explicit ReportBuilder(ReportLimits limits = {});
  ~ReportBuilder();
  ReportBuilder(ReportBuilder&&) noexcept;
  ReportBuilder& operator=(ReportBuilder&&) noexcept;

  // Reads every line of `file` into the report, parsing on as many threads
  // as there are cores (each sums up apart; the sums merge at the end).
  void add_file(AuditFile& file);
  // One record (what add_file does per line).
  void add(const AuditRecord& record);
  // A line that was not a record.
  void add_malformed();

  Report finish() &&;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A terminal report: fixed-width tables, the `top` busiest rows of each.
std::string render_text(const Report& report, std::size_t top);
// One self-contained HTML page: inline CSS, inline SVG charts, no script, no
// external resource; every string from the records is escaped.
std::string render_html(const Report& report, std::size_t top);

// --since / --until: "2026-11-25", "2026-11-25T21:00", an RFC 3339 time, or a
// duration back from `now_micros` ("90m", "24h", "7d"). nullopt when unreadable.
std::optional<std::int64_t> parse_time_bound(std::string_view text, std::int64_t now_micros);

}  // namespace chokepoint::tools
