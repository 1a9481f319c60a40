// Private to the report: one bounded table of rows keyed by strings, that
// partial tables (one per parsing thread) merge into.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/tools/report.hpp>

namespace chokepoint::tools::detail {

// Fields of a composite key are joined with this byte.
inline constexpr char kKeySeparator = '\x1f';

// Distinct clients of one row, as 64-bit hashes in an open-addressed table.
// Every row of a table draws on one budget of entries.
class ClientSet {
 public:
  // True when `hash` is new here and there was room for it.
  bool insert(std::uint64_t hash, std::size_t& budget);
  void merge(const ClientSet& other, std::size_t& budget);
  std::size_t size() const { return count_; }
  bool full() const { return full_; }

 private:
  bool contains(std::uint64_t hash) const;
  void grow();
  std::vector<std::uint64_t> slots_;
  std::size_t count_ = 0;
  bool full_ = false;
};

struct Row {
  ReportRow data;
  ClientSet clients;
  ClientSet addresses;              // a computer's distinct addresses
  std::int64_t example_micros = 0;  // when `data.example` was seen
  std::int64_t address_micros = 0;  // when `data.address` was seen

  void touch(std::int64_t ts) {
    if (data.first_micros == 0 || ts < data.first_micros) data.first_micros = ts;
    if (ts > data.last_micros) data.last_micros = ts;
  }
  // The earliest refusal's detail (and the rule it names), whichever thread saw it.
  void offer_example(std::int64_t ts, std::string_view detail);
  // The earliest address, whichever thread saw it (ties: the smaller).
  void offer_address(std::int64_t ts, std::string_view address);
};

class Table {
 public:
  Table(std::string title, std::vector<std::string> columns, const ReportLimits& limits);

  // The row for `key`, or "(other)" once max_rows keys exist.
  Row& find(std::string_view key);
  void count_client(Row& row, std::uint64_t client) { row.clients.insert(client, budget_); }
  // A computer's addresses draw on the same budget as its table's clients.
  void count_address(Row& row, std::uint64_t address) { row.addresses.insert(address, budget_); }
  // Adds another table of the same kind (a partial one from another thread).
  void merge(Table&& other);
  ReportTable finish() &&;

 private:
  void add_row(Row& into, Row& from);
  // The row of `key` (whose hash is `hash`), or nullptr; `slot` is where it
  // is, or where it would go.
  Row* lookup(std::string_view key, std::uint64_t hash, std::size_t& slot) const;
  Row& insert(std::string_view key, std::uint64_t hash, std::size_t slot);

  std::string title_;
  std::vector<std::string> columns_;
  std::size_t max_rows_;
  std::size_t budget_;
  // Open addressing over hashes (a power of two, at most half full), to rows
  // kept in a deque so that a Row& stays valid while more are added.
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t row = 0;  // index + 1; 0: empty
  };
  std::vector<Slot> slots_;
  std::deque<std::pair<std::string, Row>> rows_;
  std::unique_ptr<Row> other_;
};

}  // namespace chokepoint::tools::detail
