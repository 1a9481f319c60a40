// Private to the report: who a record's client is. A computer the proxy's
// inventory named (the record's `computer` and `computer_id`) is one client
// whatever addresses and ports it came from, so that a DHCP lease, a NAT
// or a second interface neither splits its row nor counts it twice; a
// client without one is its address (and user), as before the inventory.
#pragma once

#include <cstdint>

#include <chokepoint/tools/audit_reader.hpp>
#include <chokepoint/tools/report.hpp>

namespace chokepoint::tools::detail {

inline bool has_computer(const AuditRecord& r) {
  return !r.computer.empty() || r.computer_id != 0;
}

// The record's client (its computer, or its address; and its user) as a
// hash, for the tables' distinct-client counts.
std::uint64_t client_hash(const AuditRecord& r);

// The clients table is keyed (role, computer name, computer ID, address,
// user): a computer's fields empty without one, the address empty with one,
// so that two computers of one name stay apart. This turns its rows into
// what is shown: role, computer ("web-01 (ID 42)"), address ("10.0.8.23",
// or for a computer the first it came from and how many more: "10.0.8.23 +2"),
// user.
void show_computers(ReportTable& clients);

}  // namespace chokepoint::tools::detail
