// One loaded policy, compiled and frozen. Connections pin the snapshot that
// was current when they were accepted, so a reload never changes a decision
// in the middle of a connection.
//
// decide() is the whole of the policy on the data path: one call, no I/O, no
// lock, no allocation (DESIGN.md, "Data flow").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/matcher.hpp>
#include <chokepoint/policy/policy.hpp>

namespace chokepoint::policy {

enum class Reason : std::uint8_t {
  RuleAllows,
  RuleLogs,
  RuleDenies,
  NoMatchingRule,     // nothing in the policy names this destination
  RoleNotAllowed,     // a rule names it, for other roles
  VersionNotAllowed,  // a rule names it, for other version groups
  PortNotAllowed,     // a rule names it, on other ports
  PathNotAllowed,     // a rule names it, under other paths
};

// Stable snake_case codes for records and tools: "rule_allows", "no_matching_rule", ...
std::string_view to_string(Reason reason);

// How a client's role was found (the record's `identity`).
enum class IdentitySource : std::uint8_t { Default, Cidr, Inventory, User };
std::string_view to_string(IdentitySource source);

// Who is asking: a role (with its included roles) and an optional version.
struct ClientIdentity {
  int role = kAnyRole;
  RoleMask roles = kEveryRole;
  std::optional<Version> version;
  GroupMask versions = kEveryVersion;  // every group when the version is unknown
  IdentitySource source = IdentitySource::Default;
};

// What the manager's inventory says a client address is (the inventory
// module looks it up; the policy only decides what it means).
struct KnownComputer {
  std::string_view role;  // "agent" or "relay"
  std::optional<Version> version;
};

struct Decision {
  Action action = Action::Deny;  // the deciding rule's action, or deny when none applies
  bool enforced = true;          // false when `mode: audit` let a deny through
  Reason reason = Reason::NoMatchingRule;
  Match match;  // the deciding rule, if any
  Match near;   // for a deny without a rule: the closest entry

  // Whether the connection goes out.
  bool let_out() const { return action != Action::Deny || !enforced; }
  std::string_view rule_id() const { return match.rule ? std::string_view(match.rule->id) : ""; }
};

class Snapshot {
 public:
  // Compiles a loaded policy. Fails only when the compiled form exceeds a
  // resource bound (the regex set).
  static Result<std::shared_ptr<const Snapshot>> build(Policy policy);

  const Policy& policy() const { return policy_; }
  const Matcher& matcher() const { return matcher_; }

  // The identity of a client (DESIGN.md, precedence): its user's mapping
  // if it has one; else the computer the manager's inventory says the
  // address is (when the policy defines that role); else the source
  // address's most specific CIDR mapping; else the default role.
  ClientIdentity identify(const IpAddress* source, std::string_view user,
                          const KnownComputer* computer = nullptr) const;
  // An identity given directly (explain --role); `role` may be kAnyRole.
  ClientIdentity identity_for(int role, std::optional<Version> version) const;

  // `path` only for plain HTTP requests; a tunnel never shows one.
  Decision decide(const Host& host, std::uint16_t port, const ClientIdentity& client,
                  std::optional<std::string_view> path = std::nullopt) const;

  // Address vetting (DESIGN.md): true when a CIDR rule lets this client reach
  // `address` on `port`, which lifts the refusal of private and special ranges.
  bool allows_address(const IpAddress& address, std::uint16_t port,
                      const ClientIdentity& client) const;

  // One sentence for people: what matched, or why nothing did.
  std::string describe(const Decision& decision, const Host& host, std::uint16_t port,
                       const ClientIdentity& client) const;

  std::string role_label(const ClientIdentity& client) const {
    return policy_.role_name(client.role);
  }
  std::string version_label(const ClientIdentity& client) const;

  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

 private:
  explicit Snapshot(Policy policy);
  struct ClientTable;

  Policy policy_;
  Matcher matcher_;  // points into policy_, which never moves
  std::unique_ptr<const ClientTable> clients_;
};

}  // namespace chokepoint::policy
