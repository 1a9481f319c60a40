// The audit record: one JSON object per line, one per decision (DESIGN.md,
// "Audit record"). Every connection that reaches a decision leaves a record;
// an allowed one leaves `open` and, when it ends, `close` with the same id.
//
// The coded fields (event, mode, decision, reason, source, end, relay) are
// enums, each with one table of the strings the log has always used: a
// record cannot carry a misspelt reason, and building one allocates only
// for what came from the network or the policy.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/audit/record_fields.hpp>

namespace chokepoint::audit {

// The events, and their names in the log. `probe` is no connection's: the
// background probes (--probe-interval) leave one when a destination's
// outcome changes.
#define CHOKEPOINT_AUDIT_EVENTS(X) \
  X(Open, "open")                  \
  X(Close, "close")                \
  X(Deny, "deny")                  \
  X(Error, "error")                \
  X(Probe, "probe")

enum class Event : std::uint8_t {
#define CHOKEPOINT_EVENT_ENUM(name, text) name,
  CHOKEPOINT_AUDIT_EVENTS(CHOKEPOINT_EVENT_ENUM)
#undef CHOKEPOINT_EVENT_ENUM
};
enum class Mode : std::uint8_t { Connect, Http, Transparent, Sni, Socks };
enum class Decision : std::uint8_t { None, Allow, Deny, Log };

// Who ended a connection (the `source` key of terminal records).
enum class Source : std::uint8_t {
  None,      // not a terminal record
  Client,    // the client's bytes, or the client going away
  Policy,    // a rule, address vetting, authentication
  Upstream,  // name resolution, the destination, or its going away
  Limit,     // a limit or timeout of the proxy's
  Internal,  // the proxy itself: shutdown, an internal error
};

// Every reason a record can give: its log string, who it puts the end on,
// and whether a refusal for it is a `deny` (the proxy said no) or an
// `error` (the exchange could not go on). Policy reasons mirror
// policy::Reason; the rest are the connection's own.
#define CHOKEPOINT_AUDIT_REASONS(X)                                             \
  X(None, "", None, Error)                                                      \
  X(RuleAllows, "rule_allows", Policy, Deny)                                    \
  X(RuleLogs, "rule_logs", Policy, Deny)                                        \
  X(RuleDenies, "rule_denies", Policy, Deny)                                    \
  X(NoMatchingRule, "no_matching_rule", Policy, Deny)                           \
  X(RoleNotAllowed, "role_not_allowed", Policy, Deny)                           \
  X(VersionNotAllowed, "version_not_allowed", Policy, Deny)                     \
  X(PortNotAllowed, "port_not_allowed", Policy, Deny)                           \
  X(PathNotAllowed, "path_not_allowed", Policy, Deny)                           \
  X(AuthRequired, "auth_required", Policy, Deny)                                \
  X(AuthFailed, "auth_failed", Policy, Deny)                                    \
  X(ForbiddenAddress, "forbidden_address", Policy, Deny)                        \
  X(OriginalDestinationMismatch, "original_destination_mismatch", Policy, Deny) \
  X(SniMismatch, "sni_mismatch", Policy, Deny)                                  \
  X(EchRefused, "ech_refused", Policy, Deny)                                    \
  X(MalformedClientHello, "malformed_client_hello", Client, Deny)               \
  X(ClientHelloTooLarge, "client_hello_too_large", Client, Deny)                \
  X(PeekTimeout, "peek_timeout", Client, Deny)                                  \
  X(BadSni, "bad_sni", Client, Deny)                                            \
  X(NoSni, "no_sni", Client, Deny)                                              \
  X(BadRequest, "bad_request", Client, Error)                                   \
  X(HeaderTooLarge, "header_too_large", Client, Error)                          \
  X(RequestHeadTimeout, "request_head_timeout", Client, Error)                  \
  X(ClientClosed, "client_closed", Client, Error)                               \
  X(NotRedirected, "not_redirected", Client, Error)                             \
  X(NoOriginalDestination, "no_original_destination", Internal, Error)          \
  X(DnsNotFound, "dns_not_found", Upstream, Error)                              \
  X(DnsTimeout, "dns_timeout", Upstream, Error)                                 \
  X(DnsError, "dns_error", Upstream, Error)                                     \
  X(ConnectRefused, "connect_refused", Upstream, Error)                         \
  X(ConnectTimeout, "connect_timeout", Upstream, Error)                         \
  X(Unreachable, "unreachable", Upstream, Error)                                \
  X(ConnectFailed, "connect_failed", Upstream, Error)                           \
  X(UpstreamWriteFailed, "upstream_write_failed", Upstream, Error)              \
  X(UpstreamFailed, "upstream_failed", Upstream, Error)                         \
  X(UpstreamProxyRefused, "upstream_proxy_refused", Upstream, Error)            \
  X(UpstreamProxyFailed, "upstream_proxy_failed", Upstream, Error)              \
  X(ProxyHeaderMissing, "proxy_header_missing", Client, Error)                  \
  X(ProxyHeaderMalformed, "proxy_header_malformed", Client, Error)              \
  X(ProxyHeaderNoClient, "proxy_header_no_client", Client, Error)               \
  X(ProxyHeaderRefused, "proxy_header_refused", Policy, Deny)                   \
  X(ConnectionLimit, "connection_limit", Limit, Error)                          \
  X(ClientConnectionLimit, "client_connection_limit", Limit, Error)             \
  X(PendingHeadsLimit, "pending_heads_limit", Limit, Error)                     \
  X(ClientPendingHeadsLimit, "client_pending_heads_limit", Limit, Error)        \
  X(RateLimited, "rate_limited", Limit, Error)                                  \
  X(BufferMemoryLimit, "buffer_memory_limit", Limit, Error)                     \
  X(AuditUnavailable, "audit_unavailable", Internal, Error)                     \
  X(Shutdown, "shutdown", Internal, Error)                                      \
  X(InternalError, "internal_error", Internal, Error)

enum class Reason : std::uint8_t {
#define CHOKEPOINT_REASON_ENUM(name, text, source, event) name,
  CHOKEPOINT_AUDIT_REASONS(CHOKEPOINT_REASON_ENUM)
#undef CHOKEPOINT_REASON_ENUM
};

// How a relayed connection ended (the `end` key of close records).
enum class End : std::uint8_t {
  None,
  Eof,
  Reset,
  IdleTimeout,
  HalfCloseTimeout,
  Shutdown,
  Denied,
};
enum class RelayPath : std::uint8_t { None, Splice, Copy };

std::string_view to_string(Event event);
// The event named `text` ("open", ...), as a reader of the log finds it;
// inline, for `report` calls it on every line.
constexpr std::optional<Event> event_from(std::string_view text) {
#define CHOKEPOINT_EVENT_FROM(name, spelt) \
  if (text == spelt) return Event::name;
  CHOKEPOINT_AUDIT_EVENTS(CHOKEPOINT_EVENT_FROM)
#undef CHOKEPOINT_EVENT_FROM
  return std::nullopt;
}
std::string_view to_string(Mode mode);
std::string_view to_string(Decision decision);  // "" for None
std::string_view to_string(Source source);      // "" for None
std::string_view to_string(Reason reason);      // "" for None
std::string_view to_string(End end);            // "" for None
std::string_view to_string(RelayPath path);     // "" for None
// Who a refusal for `reason` puts the end on.
Source source_of(Reason reason);
// The record a refusal for `reason` leaves: Deny or Error.
Event event_of(Reason reason);

using Time = std::chrono::system_clock::time_point;

// One record: a member per row of record_fields.hpp, of the type, name and
// initial value the row gives.
struct Record {
#define CHOKEPOINT_RECORD_MEMBER(Type, name, presence, initial) Type name = initial;
  CHOKEPOINT_RECORD_FIELDS(CHOKEPOINT_RECORD_MEMBER)
#undef CHOKEPOINT_RECORD_MEMBER
};

// The record as one line of JSON, newline included: its keys in the table's
// order, each as its Presence says. Every DESIGN.md key is always present
// (null when unknown), so consumers see one schema.
std::string to_json_line(const Record& record);
// The same, appended to `out` (a batch of lines being built).
void append_json_line(std::string& out, const Record& record);

// RFC 3339 UTC with microseconds: 2026-11-25T19:58:51.123456Z.
std::string format_timestamp(std::chrono::system_clock::time_point ts);

}  // namespace chokepoint::audit
