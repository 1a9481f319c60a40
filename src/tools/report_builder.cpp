#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <unordered_map>

#include <chokepoint/tools/report.hpp>

namespace chokepoint::tools {
namespace {

// A field of a key is cut here: a hostile or broken record must not make a
// row arbitrarily large.
constexpr std::size_t kMaxKeyField = 256;
constexpr std::size_t kMaxExample = 300;
constexpr char kSeparator = '\x1f';
constexpr std::string_view kOther = "(other)";
constexpr std::int64_t kMinute = 60'000'000;
constexpr std::int64_t kBucketLadder[] = {kMinute,           5 * kMinute,   15 * kMinute,
                                          60 * kMinute,      360 * kMinute, 1440 * kMinute,
                                          7 * 1440 * kMinute};

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const {
    return std::hash<std::string_view>{}(text);
  }
};

// Distinct clients of one row, as 64-bit hashes in an open-addressed table;
// every table shares a budget of entries.
class ClientSet {
 public:
  // True when `hash` is new here and there was room for it.
  bool insert(std::uint64_t hash, std::size_t& budget) {
    if (hash == 0) hash = 1;  // 0 marks an empty slot
    if (contains(hash)) return false;
    if (budget == 0) {
      full_ = true;
      return false;
    }
    if ((count_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = hash & (slots_.size() - 1);
    while (slots_[i] != 0)
      i = (i + 1) & (slots_.size() - 1);
    slots_[i] = hash;
    ++count_;
    --budget;
    return true;
  }
  std::size_t size() const { return count_; }
  bool full() const { return full_; }

 private:
  bool contains(std::uint64_t hash) const {
    if (slots_.empty()) return false;
    std::size_t i = hash & (slots_.size() - 1);
    while (slots_[i] != 0) {
      if (slots_[i] == hash) return true;
      i = (i + 1) & (slots_.size() - 1);
    }
    return false;
  }
  void grow() {
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 8 : old.size() * 2, 0);
    for (const auto hash : old) {
      if (hash == 0) continue;
      std::size_t i = hash & (slots_.size() - 1);
      while (slots_[i] != 0)
        i = (i + 1) & (slots_.size() - 1);
      slots_[i] = hash;
    }
  }
  std::vector<std::uint64_t> slots_;
  std::size_t count_ = 0;
  bool full_ = false;
};

struct Row {
  ReportRow data;
  ClientSet clients;
};

struct Table {
  std::string title;
  std::vector<std::string> columns;
  std::size_t max_rows = 0;
  std::size_t client_budget = 0;
  std::unordered_map<std::string, Row, TransparentHash, std::equal_to<>> rows;
  std::unique_ptr<Row> other;
  std::size_t folded = 0;

  Row& find(std::string_view key) {
    if (const auto it = rows.find(key); it != rows.end()) return it->second;
    if (rows.size() >= max_rows) {
      ++folded;
      if (!other) other = std::make_unique<Row>();
      return *other;
    }
    return rows.emplace(std::string(key), Row{}).first->second;
  }

  void touch(Row& row, std::int64_t ts, std::uint64_t client) {
    if (row.data.first_micros == 0 || ts < row.data.first_micros) row.data.first_micros = ts;
    if (ts > row.data.last_micros) row.data.last_micros = ts;
    if (client != 0) row.clients.insert(client, client_budget);
  }

  ReportTable finish() && {
    ReportTable out;
    out.title = std::move(title);
    out.key_columns = std::move(columns);
    out.folded_keys = folded;
    out.max_rows = max_rows;
    const auto convert = [&](std::string_view key, Row& row) {
      ReportRow r = std::move(row.data);
      std::size_t start = 0;
      while (true) {
        const auto at = key.find(kSeparator, start);
        r.key.emplace_back(key.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos) break;
        start = at + 1;
      }
      r.clients = row.clients.size();
      r.clients_lower_bound = row.clients.full();
      return r;
    };
    out.rows.reserve(rows.size() + 1);
    for (auto& [key, row] : rows)
      out.rows.push_back(convert(key, row));
    // Would-deny connections are connections already (let out in audit mode).
    const auto weight = [](const ReportRow& r) {
      return r.connections + r.denied + r.errors + (r.connections == 0 ? r.would_deny : 0);
    };
    std::sort(out.rows.begin(), out.rows.end(), [&](const ReportRow& a, const ReportRow& b) {
      if (weight(a) != weight(b)) return weight(a) > weight(b);
      if (a.bytes_down + a.bytes_up != b.bytes_down + b.bytes_up)
        return a.bytes_down + a.bytes_up > b.bytes_down + b.bytes_up;
      return a.key < b.key;
    });
    if (other) {
      ReportRow r = convert(kOther, *other);
      out.rows.push_back(std::move(r));
    }
    return out;
  }
};

// "10.0.8.23:51514" -> "10.0.8.23"; "[2001:db8::1]:443" -> "2001:db8::1".
std::string_view client_address(std::string_view client) {
  if (!client.empty() && client.front() == '[') {
    const auto close = client.find(']');
    return close == std::string_view::npos ? client : client.substr(1, close - 1);
  }
  const auto colon = client.rfind(':');
  if (colon != std::string_view::npos && client.find(':') == colon) return client.substr(0, colon);
  return client;
}

// The rule a refusal's detail names: "rule 'spn-smart-scan' names ...".
std::string_view closest_rule(std::string_view detail) {
  constexpr std::string_view kPrefix = "rule '";
  if (detail.substr(0, kPrefix.size()) != kPrefix) return {};
  const auto end = detail.find('\'', kPrefix.size());
  if (end == std::string_view::npos) return {};
  return detail.substr(kPrefix.size(), end - kPrefix.size());
}

void append_field(std::string& key, std::string_view field) {
  key.append(field.substr(0, kMaxKeyField));
}

}  // namespace

struct ReportBuilder::State {
  ReportLimits limits;
  Report report;
  Table services, roles, clients, denials, would_denials, errors;
  std::map<std::int64_t, ReportBucket> series;
  std::int64_t bucket = kBucketLadder[0];
  std::size_t ladder = 0;
  std::string key;  // reused for every lookup
  AuditLineParser parser;

  explicit State(ReportLimits l) : limits(l) {
    const auto init = [&](Table& t, std::string title, std::vector<std::string> columns) {
      t.title = std::move(title);
      t.columns = std::move(columns);
      t.max_rows = limits.max_rows;
      t.client_budget = limits.max_client_entries;
    };
    init(services, "Services and rules", {"service", "rule"});
    init(roles, "Roles", {"role"});
    init(clients, "Clients", {"role", "client", "user"});
    init(denials, "Refused", {"destination", "reason"});
    init(would_denials, "Would be refused (audit mode)", {"destination", "reason"});
    init(errors, "Errors", {"reason"});
  }

  std::string_view make_key(std::initializer_list<std::string_view> fields) {
    key.clear();
    bool first = true;
    for (const auto field : fields) {
      if (!first) key += kSeparator;
      first = false;
      append_field(key, field);
    }
    return key;
  }

  std::string_view destination_key(const AuditRecord& r) {
    key.clear();
    append_field(key, r.host.empty() ? std::string_view("(none)") : r.host);
    if (r.port != 0) {
      key += ':';
      key += std::to_string(r.port);
    }
    key += kSeparator;
    append_field(key, r.reason);
    return key;
  }

  void add_to_series(std::int64_t ts, const AuditRecord& r, bool would_deny) {
    std::int64_t start = ts - (((ts % bucket) + bucket) % bucket);
    auto [it, inserted] = series.try_emplace(start);
    it->second.start_micros = start;
    switch (r.event) {
      case AuditEvent::Open:
        ++it->second.connections;
        if (would_deny) ++it->second.would_deny;
        break;
      case AuditEvent::Deny:
        ++it->second.denied;
        break;
      case AuditEvent::Error:
        ++it->second.errors;
        break;
      default:
        break;
    }
    if (inserted && series.size() > limits.max_buckets) widen();
  }

  void widen() {
    while (series.size() > limits.max_buckets && ladder + 1 < std::size(kBucketLadder)) {
      bucket = kBucketLadder[++ladder];
      std::map<std::int64_t, ReportBucket> merged;
      for (const auto& [start, b] : series) {
        const std::int64_t s = start - (((start % bucket) + bucket) % bucket);
        auto& m = merged[s];
        m.start_micros = s;
        m.connections += b.connections;
        m.would_deny += b.would_deny;
        m.denied += b.denied;
        m.errors += b.errors;
      }
      series = std::move(merged);
    }
    // Past a week a bucket, keep doubling (a log spanning decades).
    while (series.size() > limits.max_buckets) {
      bucket *= 2;
      std::map<std::int64_t, ReportBucket> merged;
      for (const auto& [start, b] : series) {
        const std::int64_t s = start - (((start % bucket) + bucket) % bucket);
        auto& m = merged[s];
        m.start_micros = s;
        m.connections += b.connections;
        m.would_deny += b.would_deny;
        m.denied += b.denied;
        m.errors += b.errors;
      }
      series = std::move(merged);
    }
  }
};

ReportBuilder::ReportBuilder(ReportLimits limits) : state_(std::make_unique<State>(limits)) {}
ReportBuilder::~ReportBuilder() = default;
ReportBuilder::ReportBuilder(ReportBuilder&&) noexcept = default;
ReportBuilder& ReportBuilder::operator=(ReportBuilder&&) noexcept = default;

void ReportBuilder::add_file(AuditFile& file) {
  State& s = *state_;
  s.report.sources.push_back(file.name());
  std::string_view line;
  AuditRecord record;
  while (file.next(line)) {
    ++s.report.lines;
    if (line.empty()) continue;
    if (s.parser.parse(line.data(), line.size(), line.size() + kLinePadding, record) !=
        LineError::None) {
      ++malformed_;
      continue;
    }
    add(record);
  }
  s.report.bytes_read += file.bytes();
  s.report.oversized_lines += file.oversized_lines();
  if (!file.error().empty()) s.report.problems.push_back(file.name() + ": " + file.error());
}

void ReportBuilder::add(const AuditRecord& r) {
  State& s = *state_;
  Report& report = s.report;
  const std::int64_t ts = r.ts_micros;
  if ((s.limits.since_micros && ts < *s.limits.since_micros) ||
      (s.limits.until_micros && ts >= *s.limits.until_micros)) {
    ++report.skipped_by_time;
    return;
  }
  ++report.records;
  if (report.first_micros == 0 || ts < report.first_micros) report.first_micros = ts;
  if (ts > report.last_micros) report.last_micros = ts;

  const std::string_view address = client_address(r.client);
  std::uint64_t client = std::hash<std::string_view>{}(address);
  if (!r.user.empty()) client ^= std::hash<std::string_view>{}(r.user) * 0x9e3779b97f4a7c15ULL;
  const bool would_deny = r.event == AuditEvent::Open && r.decision == "deny" && !r.enforced;

  const auto by_role = [&]() -> Row& {
    Row& row = s.roles.find(s.make_key({r.role.empty() ? std::string_view("(none)") : r.role}));
    s.roles.touch(row, ts, client);
    return row;
  };
  const auto by_client = [&]() -> Row& {
    Row& row = s.clients.find(s.make_key({r.role, address, r.user}));
    s.clients.touch(row, ts, 0);
    return row;
  };
  const auto by_service = [&]() -> Row& {
    // Let out in audit mode with no rule for it: a row of its own.
    const std::string_view service = !r.service.empty() ? r.service
                                     : r.decision == "deny"
                                         ? std::string_view("(no rule: refused when enforced)")
                                         : std::string_view("-");
    return s.services.find(s.make_key({service, r.rule.empty() ? std::string_view("-") : r.rule}));
  };
  const auto note_example = [&](Row& row) {
    if (row.data.example.empty() && !r.detail.empty())
      row.data.example = std::string(r.detail.substr(0, kMaxExample));
    if (row.data.closest_rule.empty()) row.data.closest_rule = std::string(closest_rule(r.detail));
  };

  switch (r.event) {
    case AuditEvent::Open: {
      ++report.connections;
      Row& service = by_service();
      ++service.data.connections;
      s.services.touch(service, ts, client);
      ++by_role().data.connections;
      ++by_client().data.connections;
      if (would_deny) {
        ++report.would_deny;
        Row& row = s.would_denials.find(s.destination_key(r));
        ++row.data.would_deny;
        s.would_denials.touch(row, ts, client);
        note_example(row);
        ++s.roles.find(s.make_key({r.role.empty() ? std::string_view("(none)") : r.role}))
              .data.would_deny;
        ++s.clients.find(s.make_key({r.role, address, r.user})).data.would_deny;
      }
      break;
    }
    case AuditEvent::Close: {
      report.bytes_up += r.bytes_up;
      report.bytes_down += r.bytes_down;
      Row& service = by_service();
      service.data.bytes_up += r.bytes_up;
      service.data.bytes_down += r.bytes_down;
      Row& role = s.roles.find(s.make_key({r.role.empty() ? std::string_view("(none)") : r.role}));
      role.data.bytes_up += r.bytes_up;
      role.data.bytes_down += r.bytes_down;
      Row& row = s.clients.find(s.make_key({r.role, address, r.user}));
      row.data.bytes_up += r.bytes_up;
      row.data.bytes_down += r.bytes_down;
      break;
    }
    case AuditEvent::Deny: {
      ++report.denied;
      Row& row = s.denials.find(s.destination_key(r));
      ++row.data.denied;
      s.denials.touch(row, ts, client);
      note_example(row);
      ++by_role().data.denied;
      ++by_client().data.denied;
      break;
    }
    case AuditEvent::Error: {
      ++report.errors;
      Row& row = s.errors.find(s.make_key({r.reason.empty() ? std::string_view("-") : r.reason}));
      ++row.data.errors;
      s.errors.touch(row, ts, client);
      note_example(row);
      ++by_role().data.errors;
      ++by_client().data.errors;
      break;
    }
    case AuditEvent::Other:
      break;
  }
  s.add_to_series(ts, r, would_deny);
}

Report ReportBuilder::finish() && {
  State& s = *state_;
  Report report = std::move(s.report);
  report.malformed_lines = malformed_;
  report.services = std::move(s.services).finish();
  report.roles = std::move(s.roles).finish();
  report.clients = std::move(s.clients).finish();
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
