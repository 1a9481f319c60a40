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

void Row::offer_address(std::int64_t ts, std::string_view address) {
  if (address.empty()) return;
  if (!data.address.empty() &&
      (ts > address_micros || (ts == address_micros && address >= data.address)))
    return;
  data.address = std::string(address);
  address_micros = ts;
}

Table::Table(std::string title, std::vector<std::string> columns, const ReportLimits& limits)
    : title_(std::move(title)),
      columns_(std::move(columns)),
      max_rows_(limits.max_rows),
      budget_(limits.max_client_entries) {}

Row* Table::lookup(std::string_view key, std::uint64_t hash, std::size_t& slot) const {
  if (slots_.empty()) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  for (slot = hash & mask; slots_[slot].row != 0; slot = (slot + 1) & mask) {
    const Slot& s = slots_[slot];
    if (s.hash == hash && rows_[s.row - 1].first == key)
      return const_cast<Row*>(&rows_[s.row - 1].second);
  }
  return nullptr;
}

Row& Table::insert(std::string_view key, std::uint64_t hash, std::size_t slot) {
  if ((rows_.size() + 1) * 2 > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.row == 0) continue;
      std::size_t i = s.hash & mask;
      while (slots_[i].row != 0)
        i = (i + 1) & mask;
      slots_[i] = s;
    }
    lookup(key, hash, slot);  // where it goes now
  }
  rows_.emplace_back(std::string(key), Row{});
  slots_[slot] = Slot{hash, static_cast<std::uint32_t>(rows_.size())};
  return rows_.back().second;
}

Row& Table::find(std::string_view key) {
  const std::uint64_t hash = std::hash<std::string_view>{}(key);
  std::size_t slot = 0;
  if (Row* row = lookup(key, hash, slot)) return *row;
  if (rows_.size() >= max_rows_) {
    if (!other_) other_ = std::make_unique<Row>();
    return *other_;
  }
  return insert(key, hash, slot);
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
  if (!b.address.empty()) into.offer_address(from.address_micros, b.address);
  into.clients.merge(from.clients, budget_);
  into.addresses.merge(from.addresses, budget_);
}

void Table::merge(Table&& other) {
  for (auto& [key, row] : other.rows_) {
    const std::uint64_t hash = std::hash<std::string_view>{}(key);
    std::size_t slot = 0;
    if (Row* mine = lookup(key, hash, slot)) {
      add_row(*mine, row);
    } else if (rows_.size() < max_rows_) {
      add_row(insert(key, hash, slot), row);
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
    r.addresses = row.addresses.size();
    r.addresses_lower_bound = row.addresses.full();
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
