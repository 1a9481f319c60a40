// The policy model: what a loaded, validated configuration says, before it is
// compiled into a matcher. Plain data; the loader builds it, the matcher and
// the client table are compiled from it, and `explain` prints from it.
//
// Semantics (DESIGN.md, "Policy semantics"), in brief:
//   - a rule lets `roles` reach `destinations` on `ports`, optionally only for
//     some version groups and (plain HTTP only) some path prefixes;
//   - the most specific applicable rule wins: exact > wildcard (fewest
//     wildcards, then most literal labels) > regex > CIDR (longest prefix);
//     at equal specificity deny beats log beats allow;
//   - no applicable rule means deny.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <chokepoint/core/ip.hpp>
#include <chokepoint/core/upstream_proxy.hpp>
#include <chokepoint/core/version.hpp>

namespace chokepoint::policy {

// Where a policy element was written; `file` indexes Policy::files.
struct SourcePos {
  int file = -1;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

// Order matters: at equal specificity the larger value wins (deny > log > allow).
enum class Action : std::uint8_t { Allow = 0, Log = 1, Deny = 2 };
enum class Mode : std::uint8_t { Enforce, Audit };
enum class OriginalDestinationCheck : std::uint8_t { Ignore, RequireMatch };
enum class EchPolicy : std::uint8_t { Allow, Deny };

std::string_view to_string(Action action);
std::string_view to_string(Mode mode);

using RoleMask = std::uint64_t;
using GroupMask = std::uint64_t;
inline constexpr RoleMask kEveryRole = ~RoleMask{0};
inline constexpr GroupMask kEveryVersion = ~GroupMask{0};
inline constexpr int kMaxRoles = 63;  // one bit is kept for "no role"
inline constexpr int kMaxVersionGroups = 64;

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  bool contains(std::uint16_t port) const { return port >= first && port <= last; }
};
using PortSet = std::vector<PortRange>;
bool contains(const PortSet& ports, std::uint16_t port);
std::string to_string(const PortSet& ports);  // "80,443,11000-11999"

enum class PatternKind : std::uint8_t { Exact, Glob, Regex, Cidr };

// How the labels in front of a glob's fixed part may look.
enum class GlobLead : std::uint8_t {
  None,       // "a.*.example.com": no extra labels
  OneOrMore,  // "*.example.com": one or more labels, never the apex
  ZeroOrMore  // ".example.com": the name itself and every name below it
};

// One destination as written, parsed and validated (see pattern.hpp).
struct HostPattern {
  PatternKind kind = PatternKind::Exact;
  std::string text;  // canonical: the name, the glob, the regex (without "re:"), the CIDR
  // Glob only. `labels` is the fixed part left to right; a "*" label matches
  // exactly one label. The rightmost `anchor_labels` labels are literal.
  GlobLead lead = GlobLead::None;
  std::vector<std::string> labels;
  int anchor_labels = 0;
  int wildcards = 0;  // leading wildcard counts as one
  // Cidr only (an address is a /32 or /128).
  Cidr cidr;
};

struct Destination {
  HostPattern pattern;
  std::string path;                    // "" = any; else a prefix, e.g. "/tmcss/"
  GroupMask versions = kEveryVersion;  // version groups this entry is for
  std::string version_label;           // "20.0+", or "" for every version
  std::string written;                 // as in the file, e.g. "${manager}/api"
  SourcePos pos;
};

struct Rule {
  std::string id;
  Action action = Action::Allow;
  std::string service;
  std::string description;
  RoleMask roles = kEveryRole;          // bits of Policy::roles
  std::vector<std::string> role_names;  // as written, for messages
  PortSet ports;
  std::vector<Destination> destinations;
  // How long a tunnel this rule let out may stay silent (the Manager's
  // heartbeat channel wants longer than a lookup); none: the global one.
  std::optional<std::chrono::milliseconds> idle_timeout;
  // A tunnel of this rule one side of which has closed; none: the global one.
  std::optional<std::chrono::milliseconds> half_close_timeout;
  // New connections per second each client may open through this rule
  // (burst as many); none: no limit of the rule's own.
  std::optional<double> max_rate;
  // How this rule's connections leave (`upstream_proxy:`): through this
  // parent proxy, or (`direct`) straight to the destination; neither: as
  // the process says (--upstream-proxy, else direct).
  std::optional<UpstreamProxy> upstream_proxy;
  bool upstream_direct = false;
  SourcePos pos;
};

struct Role {
  std::string name;
  std::string description;
  std::vector<std::string> includes;
  RoleMask closure = 0;  // its own bit and the bits of every role it includes
  SourcePos pos;
};

struct VersionGroup {
  std::string name;  // "20.0+", "10.2-10.3"
  Version min;
  std::optional<Version> below;  // exclusive upper bound
  SourcePos pos;
  bool contains(const Version& v) const { return v >= min && (!below || v < *below); }
};

inline constexpr int kAnyRole = -1;

// Who a client is: by source CIDR or by proxy user name.
struct ClientRule {
  std::optional<Cidr> cidr;
  std::string user;
  int role = kAnyRole;  // index into Policy::roles
  std::optional<Version> version;
  SourcePos pos;
};

// Clients from the Deep Security Manager's computer list (DESIGN.md,
// "Clients from the manager"): where to fetch it, and how often.
struct InventorySource {
  enum class Auth : std::uint8_t { ApiSecretKey, ApiKey };
  std::string url;  // https://HOST[:PORT]/PATH: the API base, without a trailing slash
  Auth auth = Auth::ApiSecretKey;
  std::string key_file;  // resolved against the file that names it
  std::string ca_file;   // likewise; empty: the system's store
  std::chrono::milliseconds refresh{300'000};
  std::chrono::milliseconds stale_for{3'600'000};
  bool required = false;  // /readyz fails while the inventory does not apply
  // Names the operator declares relays (exact names and globs), where the
  // manager cannot say which computers are relays.
  std::vector<HostPattern> relay_host_names;
  SourcePos pos;
};

enum class Direction : std::uint8_t { Inbound, Outbound };

// One line of the source document's port tables: kept so tools can export
// firewall rules from the same file. Informational; it allows nothing.
struct PortTableEntry {
  std::string component;
  Direction direction = Direction::Outbound;
  PortSet ports;
  std::vector<std::string> protocols;  // "tcp", "udp"
  bool required = true;
  std::string service;
  std::string note;
  SourcePos pos;
};

// The PAC file chokepoint serves (`pac:` in the policy file): what
// FindProxyForURL answers for destinations the policy never lets out, and the
// proxy address it names (empty: the address the client fetched the file from).
enum class PacFallback : std::uint8_t { Direct, Proxy };

struct PacSettings {
  PacFallback fallback = PacFallback::Direct;
  std::string proxy;  // "HOST:PORT" as validated by the loader, or ""
  SourcePos pos;      // where `proxy` was written
};

struct VariableValue {
  std::string text;
  SourcePos pos;
};

// A destination whose host name uses variables for labels
// (`agents.workload.${workload_security_region}.cloudone.trendmicro.com`),
// kept as written even when a variable has no value and the rule got no
// destination from it: tools can then say which value would allow a name.
struct NameTemplate {
  std::string rule_id;
  std::string host;  // the written host part, without a path
  SourcePos pos;
};

struct Policy {
  std::vector<std::string> files;  // every file read, the root first
  Mode mode = Mode::Enforce;
  int default_role = kAnyRole;
  std::vector<Role> roles;
  std::vector<VersionGroup> version_groups;
  std::map<std::string, std::vector<VariableValue>> variables;
  std::vector<NameTemplate> name_templates;
  std::vector<ClientRule> clients;
  std::vector<Rule> rules;
  std::vector<PortTableEntry> port_table;
  OriginalDestinationCheck original_destination = OriginalDestinationCheck::Ignore;
  EchPolicy ech = EchPolicy::Allow;
  bool check_tunnel_sni = true;  // peek at ClientHellos inside CONNECT tunnels
  bool deny_alert = true;        // a refused TLS connection gets an access_denied alert
  PacSettings pac;
  std::optional<InventorySource> inventory;

  int find_role(std::string_view name) const;     // index, or -1
  int find_group(std::string_view name) const;    // index, or -1
  std::string role_name(int role) const;          // "any" for kAnyRole
  std::string where(const SourcePos& pos) const;  // "file:line:col"
};

}  // namespace chokepoint::policy
