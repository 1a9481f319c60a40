// The kinds of value a process setting takes (config/settings_table.hpp
// names one per setting): how an operator writes it, what it becomes, and
// the message when it is written wrong. The same parse serves the config
// file and the flags, so both accept exactly the same text.
//
// A kind is a struct with
//   Value                    what the setting resolves to
//   kList                    repeatable: each flag or YAML list item adds one Item
//   kSwitch                  a flag that takes no value (its presence means true)
//   parse(text, name, err)   one value (or one Item of a list); on failure,
//                            nullopt and `err` set to a whole sentence naming `name`
// Pure: no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/core/ip.hpp>
#include <chokepoint/core/syslog_target.hpp>
#include <chokepoint/core/upstream_proxy.hpp>

namespace chokepoint::config {

// The Value, kList and kSwitch (above) of a kind that takes one value, and
// of one that is repeatable; each kind adds its parse().
template <class V>
struct One {
  using Value = V;
  static constexpr bool kList = false;
  static constexpr bool kSwitch = false;
};
template <class T>
struct ListOf {
  using Item = T;
  using Value = std::vector<T>;
  static constexpr bool kList = true;
  static constexpr bool kSwitch = false;
};

// ADDR:PORT, repeatable.
struct EndpointList : ListOf<Endpoint> {
  static std::optional<Item> parse(std::string_view text, std::string_view name,
                                   std::string& error);
};

// ADDR:PORT, or `none` for no endpoint at all.
struct OptionalEndpoint : One<std::optional<Endpoint>> {
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// ADDR[:PORT] of a DNS server, port 53 by default, repeatable.
struct DnsServerList : ListOf<Endpoint> {
  static std::optional<Item> parse(std::string_view text, std::string_view name,
                                   std::string& error);
};

// udp|tcp|tls://HOST[:PORT][/json|/cef], repeatable.
struct SyslogList : ListOf<SyslogTarget> {
  static std::optional<Item> parse(std::string_view text, std::string_view name,
                                   std::string& error);
};

// HOST:PORT:ADDR:PORT (curl's --connect-to), repeatable.
struct ConnectToList : ListOf<ConnectTo> {
  static std::optional<Item> parse(std::string_view text, std::string_view name,
                                   std::string& error);
};

// A CIDR block (10.0.0.0/8, 2001:db8::/32) or a bare address, repeatable.
struct CidrList : ListOf<Cidr> {
  static std::optional<Item> parse(std::string_view text, std::string_view name,
                                   std::string& error);
};

// http://[USER:PASSWORD@]HOST:PORT (core/upstream_proxy.hpp); empty: none.
struct UpstreamProxyUrl : One<std::optional<UpstreamProxy>> {
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// One TCP port, 1 to 65535.
struct Port : One<std::uint16_t> {
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// Free text: a path, a name.
struct Text : One<std::string> {
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// A whole number 0..10^9 (counts, bytes).
template <class T>
struct Number : One<T> {
  static std::optional<T> parse(std::string_view text, std::string_view name, std::string& error);
};

// A rate: N/s or N/m (new connections per second or minute), as a per-second
// number; 0 means none.
struct Rate : One<double> {
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// 500ms, 10s, 5m, 1h, 2d (core/duration.hpp).
struct Duration : One<std::chrono::milliseconds> {
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// true or false; as a flag, present or not.
struct Switch {
  using Value = bool;
  static constexpr bool kList = false;
  static constexpr bool kSwitch = true;
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// `auto` (splice, falling back to copy) or `copy`: true means always copy.
struct RelayMode : One<bool> {
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// `continue` (serve on, count what the sinks lose) or `refuse` (fail
// closed: no new connection while a sink cannot write): true means refuse.
struct AuditOnFailure : One<bool> {
  static std::optional<Value> parse(std::string_view text, std::string_view name,
                                    std::string& error);
};

// Rules a value must also pass, whichever source it came from. Each returns
// false and sets `error` (a sentence naming `name`) when the value breaks it.
struct NoCheck {
  template <class T>
  bool operator()(const T&, std::string_view, std::string&) const {
    return true;
  }
};
inline constexpr NoCheck kNoCheck{};

struct Range {
  std::size_t min;
  std::size_t max;
  template <class T>
  bool operator()(const T& value, std::string_view name, std::string& error) const {
    if (static_cast<std::size_t>(value) >= min && static_cast<std::size_t>(value) <= max)
      return true;
    error = std::string(name) + " must be " + std::to_string(min) + " to " + std::to_string(max);
    return false;
  }
};

// Not empty; `expected` says what it must be instead ("a path, '-' or 'none'").
struct NonEmpty {
  std::string_view expected;
  bool operator()(const std::string& value, std::string_view name, std::string& error) const {
    if (!value.empty()) return true;
    error = std::string(name) + " must be " + std::string(expected);
    return false;
  }
};

// Without `c` (a realm goes inside a quoted header parameter).
struct Without {
  char c;
  bool operator()(const std::string& value, std::string_view name, std::string& error) const {
    if (value.find(c) == std::string::npos) return true;
    error = std::string(name) + " may not contain '" + std::string(1, c) + "'";
    return false;
  }
};

}  // namespace chokepoint::config
