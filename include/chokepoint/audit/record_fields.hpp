// The audit record's fields, declared once (DESIGN.md, "Audit record"; the
// keys are a contract: byte for byte the same in the JSON lines, the CEF
// lines and what `report` and `learn` read). From this table come the
// members of audit::Record, the order and presence of every key in its JSON
// line, and audit::key::NAME, the only place a key's name is spelt: the CEF
// labels, the admin endpoint's /connections, the reader behind `report` and
// `learn` and the benchmarks take it from there (Smokescreen's LogField
// constants, for the same reason).
//
// One row per field, in the order the JSON line has always had:
//   X(Type, key, Presence, initial)
//   Type      the member's type in audit::Record
//   key       the JSON key, and the member's name
//   Presence  how the line writes it:
//               Always      always, as it is (an empty string as "")
//               OrNull      always; null when empty, None or 0
//               IfSet       only when not empty, None or 0
//               IfMeasured  only when 0 or more (the timings: -1 is "none made")
//   initial   the member's value in a new Record
// Adding a field to the record is one row here; then fill it where the
// proxy learns it.
#pragma once

#include <cstdint>
#include <string_view>

// clang-format off
#define CHOKEPOINT_RECORD_FIELDS(X) \
  X(Time, ts, Always, {})                                  \
  X(Event, event, Always, Event::Error)                    \
  X(std::string, id, Always, {})                           \
  X(std::string, client, OrNull, {})         /* "ip:port" */ \
  X(std::string, user, OrNull, {})           /* proxy user, when auth is on */ \
  X(std::string, role, OrNull, {})                         \
  X(Mode, mode, Always, Mode::Connect)                     \
  X(std::string, host, OrNull, {})           /* the destination as decided on */ \
  X(std::uint16_t, port, OrNull, 0)                        \
  X(std::string, sni, OrNull, {})                          \
  X(std::string, http_host, OrNull, {})      /* the Host header, when one was read */ \
  X(std::string, orig_dst, OrNull, {})       /* transparent mode: the original destination */ \
  X(std::string, upstream, OrNull, {})       /* the address dialled, "ip:port" */ \
  X(Decision, decision, OrNull, Decision::None)            \
  X(std::string, rule, OrNull, {})                         \
  X(Reason, reason, OrNull, Reason::None)                  \
  X(bool, enforced, Always, true)                          \
  X(std::uint64_t, bytes_up, Always, 0)      /* client to destination */ \
  X(std::uint64_t, bytes_down, Always, 0)    /* destination to client */ \
  X(std::int64_t, duration_ms, Always, 0)                  \
  X(std::string, version, IfSet, {})         /* the client's Deep Security version */ \
  X(std::string_view, identity, IfSet, {})   /* how the role was found: user | inventory | cidr | default */ \
  X(std::string, computer, IfSet, {})        /* the manager's name for the client's computer */ \
  X(std::uint64_t, computer_id, IfSet, 0)    /* and its ID there */ \
  X(std::string, service, IfSet, {})         /* the rule's, "Smart Protection Network: ..." */ \
  X(std::string, dns, IfSet, {})             /* hit | miss | coalesced | stale */ \
  X(std::int64_t, dns_ms, IfMeasured, -1)    /* resolving the name (0 on a hit) */ \
  X(std::int64_t, connect_ms, IfMeasured, -1) /* connecting upstream */ \
  X(std::string, method, IfSet, {})          /* plain HTTP: the request method and path */ \
  X(std::string, path, IfSet, {})                          \
  X(int, status, IfSet, 0)                   /* the HTTP status chokepoint answered */ \
  X(RelayPath, relay, IfSet, RelayPath::None) /* close records: splice | copy */ \
  X(End, end, IfSet, End::None)              /* close records: how it ended */ \
  X(Source, source, IfSet, Source::None)     /* terminal records: who ended it */ \
  X(std::string_view, socks_version, IfSet, {}) /* "4", "4a" or "5" */ \
  X(std::string_view, socks_method, IfSet, {})  /* SOCKS5: "no_auth", "username_password" */ \
  X(std::string, socks_user_id, IfSet, {})   /* SOCKS4's user id: recorded, never an identity */ \
  X(std::string, via, IfSet, {})             /* the balancer ("ip:port") whose PROXY header named `client` */ \
  X(std::string, upstream_proxy, IfSet, {})  /* the parent proxy ("host:port") gone through */ \
  X(int, upstream_proxy_status, IfSet, 0)    /* its answer to our CONNECT (0: none) */ \
  X(std::uint64_t, suppressed, IfSet, 0)     /* a summary: further refusals of its kind not written */ \
  X(std::string, detail, IfSet, {})          /* a sentence for people */
// clang-format on

namespace chokepoint::audit {

// How a field's key appears in the JSON line (the table's Presence column).
enum class Presence : std::uint8_t { Always, OrNull, IfSet, IfMeasured };

// Every key's name: key::host is "host". Nothing else spells one.
namespace key {
#define CHOKEPOINT_RECORD_KEY(Type, name, presence, initial) \
  inline constexpr std::string_view name{#name};
CHOKEPOINT_RECORD_FIELDS(CHOKEPOINT_RECORD_KEY)
#undef CHOKEPOINT_RECORD_KEY
}  // namespace key

}  // namespace chokepoint::audit
