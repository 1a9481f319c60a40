#include "report_table.hpp"

#include <algorithm>

namespace chokepoint::tools::detail {
namespace {

constexpr std::size_t kMaxExample = 300;
constexpr std::string_view kOther = "(other)";

// The rule a refusal's detail names: "rule 'spn-smart-scan' names ...".
std::string_view closest_rule(std::string_view detail) {
  constexpr std::string_view kPrefix = "rule '";
  if (detail.substr(0, kPrefix.size()) != kPrefix) return {};
  const auto end = detail.find('\'', kPrefix.size());
  if (end == std::string_view::npos) return {};
  return detail.substr(kPrefix.size(), end - kPrefix.size());
}

}  // namespace

bool ClientSet::insert(std::uint64_t hash, std::size_t& budget) {
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

void ClientSet::merge(const ClientSet& other, std::size_t& budget) {
  for (const auto hash : other.slots_) {
    if (hash != 0) insert(hash, budget);
  }
  full_ |= other.full_;
}

bool ClientSet::contains(std::uint64_t hash) const {
  if (slots_.empty()) return false;
  std::size_t i = hash & (slots_.size() - 1);
  while (slots_[i] != 0) {
    if (slots_[i] == hash) return true;
    i = (i + 1) & (slots_.size() - 1);
  }
  return false;
}

void ClientSet::grow() {
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

void Row::offer_example(std::int64_t ts, std::string_view detail) {
  if (detail.empty()) return;
  detail = detail.substr(0, kMaxExample);
  if (!data.example.empty() &&
      (ts > example_micros || (ts == example_micros && detail >= data.example)))
    return;
  data.example = std::string(detail);
  data.closest_rule = std::string(closest_rule(detail));
  example_micros = ts;
}

Table::Table(std::string title, std::vector<std::string> columns, const ReportLimits& limits)
    : title_(std::move(title)),
      columns_(std::move(columns)),
      max_rows_(limits.max_rows),
      budget_(limits.max_client_entries) {}

Row& Table::find(std::string_view key) {
  if (const auto it = rows_.find(key); it != rows_.end()) return it->second;
  if (rows_.size() >= max_rows_) {
    if (!other_) other_ = std::make_unique<Row>();
    return *other_;
  }
  return rows_.emplace(std::string(key), Row{}).first->second;
}

void Table::add_row(Row& into, Row& from) {
  ReportRow& a = into.data;
  const ReportRow& b = from.data;
  a.connections += b.connections;
  a.denied += b.denied;
  a.would_deny += b.would_deny;
  a.errors += b.errors;
  a.bytes_up += b.bytes_up;
  a.bytes_down += b.bytes_down;
  if (b.first_micros != 0) into.touch(b.first_micros);
  if (b.last_micros != 0) into.touch(b.last_micros);
  if (!b.example.empty()) into.offer_example(from.example_micros, b.example);
  into.clients.merge(from.clients, budget_);
}

void Table::merge(Table&& other) {
  for (auto& [key, row] : other.rows_) {
    if (const auto it = rows_.find(key); it != rows_.end()) {
      add_row(it->second, row);
    } else if (rows_.size() < max_rows_) {
      Row& fresh = rows_.emplace(key, Row{}).first->second;
      add_row(fresh, row);
    } else {
      if (!other_) other_ = std::make_unique<Row>();
      add_row(*other_, row);
    }
  }
  if (other.other_) {
    if (!other_) other_ = std::make_unique<Row>();
    add_row(*other_, *other.other_);
  }
}

ReportTable Table::finish() && {
  ReportTable out;
  out.title = std::move(title_);
  out.key_columns = std::move(columns_);
  out.folded = other_ != nullptr;
  out.max_rows = max_rows_;
  const auto convert = [&](std::string_view key, Row& row) {
    ReportRow r = std::move(row.data);
    std::size_t start = 0;
    while (true) {
      const auto at = key.find(kKeySeparator, start);
      r.key.emplace_back(key.substr(start, at == std::string_view::npos ? at : at - start));
      if (at == std::string_view::npos) break;
      start = at + 1;
    }
    r.clients = row.clients.size();
    r.clients_lower_bound = row.clients.full();
    return r;
  };
  out.rows.reserve(rows_.size() + 1);
  for (auto& [key, row] : rows_)
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
  if (other_) out.rows.push_back(convert(kOther, *other_));
  return out;
}

}  // namespace chokepoint::tools::detail
