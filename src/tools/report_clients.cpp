#include "report_clients.hpp"

#include <functional>

#include "report_format.hpp"

namespace chokepoint::tools::detail {
namespace {

constexpr std::uint64_t kMix = 0x9e3779b97f4a7c15ULL;

std::string computer_text(std::string_view name, std::string_view id) {
  if (id.empty()) return std::string(name);
  if (name.empty()) return "(ID " + std::string(id) + ")";
  return std::string(name) + " (ID " + std::string(id) + ")";
}

std::string addresses_text(const ReportRow& row) {
  if (row.address.empty()) return "-";
  if (row.addresses <= 1 && !row.addresses_lower_bound) return row.address;
  const std::uint64_t more = row.addresses > 0 ? row.addresses - 1 : 0;
  return row.address + " +" + count_text(more) + (row.addresses_lower_bound ? " or more" : "");
}

}  // namespace

std::uint64_t client_hash(const AuditRecord& r) {
  std::uint64_t client = 0;
  if (has_computer(r)) {
    // Apart from every address's hash: a computer named "10.0.8.23" is not that address.
    client = std::hash<std::string_view>{}(r.computer) ^ (r.computer_id + 1) * kMix ^ 0x5bd1e995;
  } else {
    client = std::hash<std::string_view>{}(client_address(r.client));
  }
  if (!r.user.empty()) client ^= std::hash<std::string_view>{}(r.user) * kMix;
  return client;
}

void show_computers(ReportTable& clients) {
  clients.key_columns = {"role", "computer", "address", "user"};
  for (ReportRow& row : clients.rows) {
    if (row.key.size() != 5) continue;  // "(other)"
    std::vector<std::string> key;
    key.push_back(std::move(row.key[0]));
    key.push_back(computer_text(row.key[1], row.key[2]));
    key.push_back(row.key[3].empty() ? addresses_text(row) : std::move(row.key[3]));
    key.push_back(std::move(row.key[4]));
    row.key = std::move(key);
  }
}

}  // namespace chokepoint::tools::detail
