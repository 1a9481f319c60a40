// Private to the proxy module: the steps every kind of session shares once
// it knows its destination (DESIGN.md, "Data flow": decide -> vet and dial
// -> relay -> record).
#pragma once

#include <chrono>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {

using Clock = std::chrono::steady_clock;

// Copies a decision into the record; a deny (or an unenforced one) also
// gets the sentence that says why.
void record_decision(audit::Record& record, const policy::Decision& decision,
                     const policy::Snapshot& snapshot, const Host& host, std::uint16_t port,
                     const policy::ClientIdentity& identity);

// Hands both sockets to a relay::Tunnel; when it ends, the `close` record is
// written and the client's connection slot given back.
// `rule`: the deciding rule, whose idle_timeout (if it has one) replaces the global one.
void start_relay(Worker& worker, tcp::socket client, tcp::socket upstream, std::uint64_t already_up,
                 audit::Record record, Clock::time_point started, const IpAddress& client_ip,
                 const policy::Rule* rule);

// Resolves, vets and connects, filling the record's dns, dns_ms, connect_ms
// and upstream. A CIDR rule of `snapshot` for this client lets an otherwise
// refused address through.
struct Dialled {
  net::DialPlan plan;
  net::DialResult result;
  // original_destination: require-match, and the name does not resolve to the
  // address the client dialled: nothing was connected.
  bool mismatch = false;
  net::DialError error() const {
    return plan.error != net::DialError::None ? plan.error : result.error;
  }
  const std::string& detail() const {
    return plan.error != net::DialError::None ? plan.detail : result.detail;
  }
};
// `must_resolve_to`: the original destination under require-match, else null.
// `cancelled` is looked at between resolving and connecting.
asio::awaitable<Dialled> resolve_and_connect(Worker& worker, const Host& host, std::uint16_t port,
                                             const policy::Snapshot& snapshot,
                                             const policy::ClientIdentity& identity,
                                             audit::Record& record,
                                             const tcp::endpoint* must_resolve_to,
                                             const bool& cancelled);

// A fatal TLS alert (access_denied), for refusing a client whose hello we read.
inline constexpr unsigned char kTlsAccessDenied[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31};

}  // namespace chokepoint::proxy
