#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <thread>

#include "report_clients.hpp"
#include "report_table.hpp"

namespace chokepoint::tools {
namespace {

using detail::Row;
using detail::Table;

// A field of a key is cut here: a hostile or broken record must not make a
// row arbitrarily large.
constexpr std::size_t kMaxKeyField = 256;
constexpr std::int64_t kMinute = 60'000'000;
constexpr std::int64_t kBucketLadder[] = {kMinute,           5 * kMinute,   15 * kMinute,
                                          60 * kMinute,      360 * kMinute, 1440 * kMinute,
                                          7 * 1440 * kMinute};
// Lines a parsing thread takes from the file at once.
constexpr std::size_t kBatchBytes = 1 << 20;
constexpr unsigned kMaxThreads = 8;

std::int64_t floor_to(std::int64_t t, std::int64_t width) {
  return t - (((t % width) + width) % width);
}

// What let a connection out, as the services and destinations tables show
// it: let out in audit mode with no rule for it is a row of its own.
std::string_view service_of(const AuditRecord& r) {
  if (!r.service.empty()) return r.service;
  return r.decision == "deny" ? std::string_view("(no rule: refused when enforced)")
                              : std::string_view("-");
}

std::string_view rule_of(const AuditRecord& r) {
  return r.rule.empty() ? std::string_view("-") : r.rule;
}

}  // namespace

// Everything one parsing thread has summed up; partial states merge.
struct ReportBuilder::State {
  ReportLimits limits;
  Report report;
  std::uint64_t malformed = 0;
  Table services{"Services and rules", {"service", "rule"}, limits};
  Table destinations{"Destinations let out", {"destination", "service", "rule"}, limits};
  Table roles{"Roles", {"role"}, limits};
  // Shown as role, computer, address, user (show_computers).
  Table clients{"Clients", {"role", "computer", "computer ID", "address", "user"}, limits};
  Table denials{"Refused", {"destination", "reason"}, limits};
  Table would_denials{"Would be refused (audit mode)", {"destination", "reason"}, limits};
  Table errors{"Errors", {"reason"}, limits};
  std::map<std::int64_t, ReportBucket> series;
  std::int64_t bucket = kBucketLadder[0];
  std::size_t ladder = 0;
  std::string key;  // reused for every lookup
  AuditLineParser parser;

  explicit State(ReportLimits l) : limits(l) {}

  std::string_view make_key(std::initializer_list<std::string_view> fields) {
    key.clear();
    bool first = true;
    for (const auto field : fields) {
      if (!first) key += detail::kKeySeparator;
      first = false;
      key.append(field.substr(0, kMaxKeyField));
    }
    return key;
  }

  // host:port, then `rest` as further fields.
  std::string_view destination_key(const AuditRecord& r,
                                   std::initializer_list<std::string_view> rest) {
    key.clear();
    key.append((r.host.empty() ? std::string_view("(none)") : r.host).substr(0, kMaxKeyField));
    if (r.port != 0) {
      key += ':';
      key += std::to_string(r.port);
    }
    for (const auto field : rest) {
      key += detail::kKeySeparator;
      key.append(field.substr(0, kMaxKeyField));
    }
    return key;
  }

  void add_line(std::string_view line, std::size_t readable) {
    ++report.lines;
    if (line.empty()) return;
    AuditRecord record;
    if (parser.parse(line.data(), line.size(), readable, record) != LineError::None) {
      ++malformed;
      return;
    }
    add(record);
  }

  void add(const AuditRecord& r);

  void count_in_series(std::int64_t ts, const AuditRecord& r, bool would_deny,
                       std::uint64_t times) {
    auto [it, inserted] = series.try_emplace(floor_to(ts, bucket));
    ReportBucket& b = it->second;
    b.start_micros = it->first;
    if (r.event == audit::Event::Open) {
      ++b.connections;
      if (would_deny) ++b.would_deny;
    } else if (r.event == audit::Event::Deny) {
      b.denied += times;
    } else if (r.event == audit::Event::Error) {
      b.errors += times;
    }
    if (inserted && series.size() > limits.max_buckets) widen_series();
  }

  // The next width up (the ladder, then doubling) until the series fits.
  void widen_series() {
    while (series.size() > limits.max_buckets) {
      bucket = ladder + 1 < std::size(kBucketLadder) ? kBucketLadder[++ladder] : bucket * 2;
      rebucket();
    }
  }

  void rebucket() {
    std::map<std::int64_t, ReportBucket> merged;
    for (const auto& [start, b] : series) {
      ReportBucket& m = merged[floor_to(start, bucket)];
      m.start_micros = floor_to(start, bucket);
      m.connections += b.connections;
      m.would_deny += b.would_deny;
      m.denied += b.denied;
      m.errors += b.errors;
    }
    series = std::move(merged);
  }

  void merge(State&& other) {
    Report& a = report;
    const Report& b = other.report;
    a.lines += b.lines;
    a.records += b.records;
    a.skipped_by_time += b.skipped_by_time;
    if (b.first_micros != 0 && (a.first_micros == 0 || b.first_micros < a.first_micros))
      a.first_micros = b.first_micros;
    a.last_micros = std::max(a.last_micros, b.last_micros);
    a.connections += b.connections;
    a.denied += b.denied;
    a.would_deny += b.would_deny;
    a.errors += b.errors;
    a.bytes_up += b.bytes_up;
    a.bytes_down += b.bytes_down;
    malformed += other.malformed;
    services.merge(std::move(other.services));
    destinations.merge(std::move(other.destinations));
    roles.merge(std::move(other.roles));
    clients.merge(std::move(other.clients));
    denials.merge(std::move(other.denials));
    would_denials.merge(std::move(other.would_denials));
    errors.merge(std::move(other.errors));
    // Buckets: the wider width of the two, then fit.
    while (bucket < other.bucket) {
      bucket = ladder + 1 < std::size(kBucketLadder) ? kBucketLadder[++ladder] : bucket * 2;
    }
    for (const auto& [start, b2] : other.series) {
      ReportBucket& m = series[floor_to(start, bucket)];
      m.connections += b2.connections;
      m.would_deny += b2.would_deny;
      m.denied += b2.denied;
      m.errors += b2.errors;
    }
    rebucket();
    widen_series();
  }
};

void ReportBuilder::State::add(const AuditRecord& r) {
  const std::int64_t ts = r.ts_micros;
  if ((limits.since_micros && ts < *limits.since_micros) ||
      (limits.until_micros && ts >= *limits.until_micros)) {
    ++report.skipped_by_time;
    return;
  }
  ++report.records;
  if (report.first_micros == 0 || ts < report.first_micros) report.first_micros = ts;
  if (ts > report.last_micros) report.last_micros = ts;

  const std::string_view address = client_address(r.client).substr(0, kMaxKeyField);
  const std::uint64_t client = detail::client_hash(r);
  const bool computer = detail::has_computer(r);
  // The computer's ID is in its row's key: two computers of one name stay apart.
  char id_digits[24];
  std::string_view computer_id;
  if (r.computer_id != 0) {
    const char* end = std::to_chars(std::begin(id_digits), std::end(id_digits), r.computer_id).ptr;
    computer_id = std::string_view(id_digits, static_cast<std::size_t>(end - id_digits));
  }
  const bool would_deny = r.event == audit::Event::Open && r.decision == "deny" && !r.enforced;
  // A summary record stands for itself and the refusals it suppressed.
  const std::uint64_t times = 1 + std::min<std::uint64_t>(r.suppressed, 1'000'000'000'000ULL);
  const std::string_view role = r.role.empty() ? std::string_view("(none)") : r.role;

  const auto by_role = [&]() -> Row& { return roles.find(make_key({role})); };
  const auto by_client = [&]() -> Row& {
    if (!computer) return clients.find(make_key({r.role, {}, {}, address, r.user}));
    Row& row = clients.find(make_key({r.role, r.computer, computer_id, {}, r.user}));
    row.offer_address(ts, address);
    clients.count_address(row, std::hash<std::string_view>{}(address));
    return row;
  };
  const auto by_service = [&]() -> Row& {
    return services.find(make_key({service_of(r), rule_of(r)}));
  };
  const auto by_destination = [&]() -> Row& {
    return destinations.find(destination_key(r, {service_of(r), rule_of(r)}));
  };
  // A row counts its records' times and clients, for the tables that show them.
  const auto seen = [&](Table& table, Row& row) {
    row.touch(ts);
    table.count_client(row, client);
  };

  // A refusal or an error: counted (`count`) in its row of `table`, whose
  // detail may become the example, in its role's row and in its client's.
  const auto count_failure = [&](Table& table, Row& row, std::uint64_t ReportRow::*count) {
    row.data.*count += times;
    seen(table, row);
    row.offer_example(ts, r.detail);
    Row& role_row = by_role();
    role_row.data.*count += times;
    seen(roles, role_row);
    Row& client_row = by_client();
    client_row.data.*count += times;
    client_row.touch(ts);
  };

  count_in_series(ts, r, would_deny, times);
  if (!r.event) return;  // an event this reader does not know: in the time series only
  switch (*r.event) {
    case audit::Event::Open: {
      ++report.connections;
      Row& service = by_service();
      ++service.data.connections;
      seen(services, service);
      Row& destination = by_destination();
      ++destination.data.connections;
      seen(destinations, destination);
      if (would_deny) ++destination.data.would_deny;
      Row& role_row = by_role();
      ++role_row.data.connections;
      seen(roles, role_row);
      Row& client_row = by_client();
      ++client_row.data.connections;
      client_row.touch(ts);
      if (would_deny) {
        ++report.would_deny;
        Row& row = would_denials.find(destination_key(r, {r.reason}));
        ++row.data.would_deny;
        seen(would_denials, row);
        row.offer_example(ts, r.detail);
        ++by_role().data.would_deny;
        ++by_client().data.would_deny;
      }
      break;
    }
    case audit::Event::Close: {
      report.bytes_up += r.bytes_up;
      report.bytes_down += r.bytes_down;
      for (Row* row : {&by_service(), &by_destination(), &by_role(), &by_client()}) {
        row->data.bytes_up += r.bytes_up;
        row->data.bytes_down += r.bytes_down;
      }
      break;
    }
    case audit::Event::Deny:
      report.denied += times;
      count_failure(denials, denials.find(destination_key(r, {r.reason})), &ReportRow::denied);
      break;
    case audit::Event::Error:
      report.errors += times;
      count_failure(errors,
                    errors.find(make_key({r.reason.empty() ? std::string_view("-") : r.reason})),
                    &ReportRow::errors);
      break;
    case audit::Event::Probe:
      // The proxy testing its own path: no client, no decision.
      break;
  }
}

ReportBuilder::ReportBuilder(ReportLimits limits) : state_(std::make_unique<State>(limits)) {}
ReportBuilder::~ReportBuilder() = default;
ReportBuilder::ReportBuilder(ReportBuilder&&) noexcept = default;
ReportBuilder& ReportBuilder::operator=(ReportBuilder&&) noexcept = default;

void ReportBuilder::add_file(AuditFile& file) {
  // Parsing is what costs: each thread takes a batch of lines from the file
  // (copied, under a lock, while the file's own thread reads ahead) and sums
  // it up in a state of its own; the states are merged at the end.
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
  std::mutex file_lock;
  const auto work = [&](State& s) {
    std::string batch;
    std::vector<std::pair<std::size_t, std::size_t>> lines;
    while (true) {
      batch.clear();
      lines.clear();
      {
        std::lock_guard lock(file_lock);
        std::string_view line;
        while (batch.size() < kBatchBytes && file.next(line)) {
          lines.emplace_back(batch.size(), line.size());
          batch.append(line);
          batch += '\n';
        }
      }
      if (lines.empty()) return;
      batch.append(kLinePadding, ' ');
      for (const auto& [at, size] : lines)
        s.add_line(std::string_view(batch.data() + at, size), batch.size() - at);
    }
  };
  std::vector<std::unique_ptr<State>> partial;
  std::vector<std::thread> running;
  for (unsigned i = 1; i < threads; ++i) {
    partial.push_back(std::make_unique<State>(state_->limits));
    running.emplace_back(work, std::ref(*partial.back()));
  }
  work(*state_);
  for (auto& thread : running)
    thread.join();
  for (auto& other : partial)
    state_->merge(std::move(*other));

  Report& report = state_->report;
  report.sources.push_back(file.name());
  report.bytes_read += file.bytes();
  report.oversized_lines += file.oversized_lines();
  if (!file.error().empty()) report.problems.push_back(file.name() + ": " + file.error());
}

void ReportBuilder::add(const AuditRecord& record) {
  state_->add(record);
}

void ReportBuilder::add_malformed() {
  ++state_->malformed;
}

Report ReportBuilder::finish() && {
  State& s = *state_;
  Report report = std::move(s.report);
  report.malformed_lines = s.malformed;
  report.services = std::move(s.services).finish();
  report.destinations = std::move(s.destinations).finish();
  report.roles = std::move(s.roles).finish();
  report.clients = std::move(s.clients).finish();
  detail::show_computers(report.clients);
  report.denials = std::move(s.denials).finish();
  report.would_denials = std::move(s.would_denials).finish();
  report.errors_by_reason = std::move(s.errors).finish();
  report.bucket_micros = s.bucket;
  for (const auto& [start, bucket] : s.series)
    report.series.push_back(bucket);
  return report;
}

std::optional<std::int64_t> parse_time_bound(std::string_view text, std::int64_t now_micros) {
  if (text.empty()) return std::nullopt;
  // A duration back from now: 90m, 24h, 7d (and s, w).
  const char unit = text.back();
  if (text.size() >= 2 && std::string_view("smhdw").find(unit) != std::string_view::npos &&
      text.find_first_not_of("0123456789") == text.size() - 1) {
    std::int64_t n = 0;
    for (const char c : text.substr(0, text.size() - 1)) {
      n = n * 10 + (c - '0');
      if (n > 100000000) return std::nullopt;
    }
    const std::int64_t seconds = unit == 's'   ? n
                                 : unit == 'm' ? n * 60
                                 : unit == 'h' ? n * 3600
                                 : unit == 'd' ? n * 86400
                                               : n * 7 * 86400;
    return now_micros - seconds * 1000000;
  }
  // A date, a date and minutes, or a full timestamp (UTC unless it says otherwise).
  std::string full(text);
  if (full.size() == 10) full += "T00:00:00Z";
  if (full.size() == 16) full += ":00Z";
  if (full.size() == 19) full += 'Z';
  std::int64_t micros = 0;
  if (!parse_timestamp(full, micros)) return std::nullopt;
  return micros;
}

}  // namespace chokepoint::tools
