// From a decided destination to a connected upstream socket: resolve, vet,
// connect (DESIGN.md, "Data flow").
//
//   plan()     resolves the name once (resolver.hpp: A and AAAA, cached,
//              with a deadline), classifies every address
//              (address_class.hpp) and keeps only those the proxy may dial:
//              public ones, and special ones a CIDR rule allows. A cached
//              answer is vetted like a fresh one, on every use.
//              --connect-to rules apply first and, because the operator
//              chose that address, skip DNS and vetting.
//   connect()  dials exactly the planned addresses, never resolving again,
//              Happy Eyeballs style (RFC 8305): IPv6 and IPv4 interleaved,
//              a new attempt every 250 ms while earlier ones are pending,
//              the first to connect wins, all under one connect deadline.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/net/resolver.hpp>

namespace chokepoint::net {

enum class DialError : std::uint8_t {
  None,
  NotFound,  // the name does not exist
  DnsTimeout,
  DnsFailed,
  Forbidden,    // every address is in a refused range
  Refused,      // connection refused
  Timeout,      // no address answered within the connect deadline
  Unreachable,  // network or host unreachable
  Failed,       // anything else
};

// Stable snake_case reason codes for records: "dns_not_found", "forbidden_address", ...
std::string_view to_string(DialError error);

// True when a rule lets this special address through (policy CIDR rules).
using AddressVetter = std::function<bool(const IpAddress& address, std::uint16_t port)>;

struct DialPlan {
  DialError error = DialError::None;
  std::string detail;
  std::vector<IpAddress> addresses;  // vetted, in attempt order
  std::uint16_t port = 0;
  bool operator_chosen = false;  // from --connect-to
  std::int64_t dns_ms = -1;      // time spent resolving, when a name was resolved (0 on a hit)
  std::optional<DnsServed> dns;  // how the lookup was served, when a name was resolved
};

struct DialResult {
  DialError error = DialError::None;
  std::string detail;
  std::optional<tcp::socket> socket;  // connected on success
  tcp::endpoint endpoint;             // the address that answered
};

// The DNS deadline is the resolver's (ResolverOptions::timeout). The connect
// timeout is a setting: net::dial_options() (net/options.hpp) fills it from
// the settings table, default included.
struct DialOptions {
  std::chrono::milliseconds connect_timeout{};
  std::chrono::milliseconds attempt_delay{250};  // RFC 8305 "Connection Attempt Delay"
};

class Dialer {
 public:
  Dialer(Resolver& resolver, std::vector<ConnectTo> connect_to, DialOptions options)
      : resolver_(resolver), connect_to_(std::move(connect_to)), options_(options) {}

  // Resolves (once) and vets; the plan's addresses are all connect() may
  // dial. The lookup is the requester's (Resolver::resolve).
  asio::awaitable<DialPlan> plan(const Host& host, std::uint16_t port, const AddressVetter& vet,
                                 Requester requester = {});
  // A host the operator named (a parent proxy): resolved like any name, but
  // neither vetted nor subject to --connect-to.
  asio::awaitable<DialPlan> plan_named(const Host& host, std::uint16_t port,
                                       Requester requester = {});
  // Dials exactly the planned addresses, never resolving again; a requested
  // `cancellation` ends the race at once (DialError::Failed).
  asio::awaitable<DialResult> connect(const DialPlan& plan, Cancellation* cancellation = nullptr);

  const DialOptions& options() const { return options_; }

 private:
  // `name` resolved (or taken as a literal) into `plan`, its addresses
  // vetted by `vet` unless that is null.
  asio::awaitable<void> resolve_into(DialPlan& plan, const std::string& name,
                                     const AddressVetter* vet, Requester requester);

  Resolver& resolver_;
  std::vector<ConnectTo> connect_to_;
  DialOptions options_;
};

// IPv6 and IPv4 interleaved, IPv6 first, each family in resolver order (RFC 8305 4).
std::vector<IpAddress> interleave_families(std::vector<IpAddress> addresses);

tcp::endpoint to_endpoint(const IpAddress& address, std::uint16_t port);
IpAddress to_ip(const asio::ip::address& address);
std::string format_endpoint(const tcp::endpoint& endpoint);

}  // namespace chokepoint::net
