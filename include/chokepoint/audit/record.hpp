// The audit record: one JSON object per line, one per decision (DESIGN.md,
// "Audit record"). Every connection that reaches a decision leaves a record;
// an allowed one leaves `open` and, when it ends, `close` with the same id.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace chokepoint::audit {

enum class Event : std::uint8_t { Open, Close, Deny, Error };
enum class Mode : std::uint8_t { Connect, Http, Transparent, Sni };

std::string_view to_string(Event event);
std::string_view to_string(Mode mode);

struct Record {
  std::chrono::system_clock::time_point ts;
  Event event = Event::Error;
  std::string id;
  std::string client;  // "ip:port" of the client
  std::string user;    // proxy user, when auth is on
  std::string role;
  std::string version;  // the client's Deep Security version, when known
  Mode mode = Mode::Connect;
  std::string host;  // the destination as decided on
  std::uint16_t port = 0;
  std::string sni;
  std::string http_host;  // the Host header, when one was read
  std::string orig_dst;   // transparent mode: the original destination
  std::string upstream;   // the address dialled, "ip:port"
  std::string decision;   // allow | deny | log, or empty before a decision
  std::string rule;
  std::string service;  // the rule's service, e.g. "Smart Protection Network: Smart Scan Service"
  std::string reason;   // a stable code: rule_allows, no_matching_rule, connect_refused, ...
  std::string detail;   // a sentence for people, optional
  bool enforced = true;
  std::string method;  // plain HTTP: the request method and path
  std::string path;
  int status = 0;                // the HTTP status chokepoint answered, when it answered one
  std::string relay;             // close records: splice | copy
  std::string end;               // close records: eof | reset | idle_timeout | shutdown
  std::uint64_t bytes_up = 0;    // client to destination
  std::uint64_t bytes_down = 0;  // destination to client
  std::int64_t duration_ms = 0;
  std::string dns;               // how the name was resolved: hit | miss | coalesced | stale
  std::int64_t dns_ms = -1;      // name resolution, when one was made (0 on a hit)
  std::int64_t connect_ms = -1;  // connecting upstream, when one was made
};

// The record as one line of JSON, newline included. Every DESIGN.md key is
// always present (null when unknown), so consumers see one schema.
std::string to_json_line(const Record& record);
// The same, appended to `out` (a batch of lines being built).
void append_json_line(std::string& out, const Record& record);

// RFC 3339 UTC with microseconds: 2026-11-25T19:58:51.123456Z.
std::string format_timestamp(std::chrono::system_clock::time_point ts);

}  // namespace chokepoint::audit
