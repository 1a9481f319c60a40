// The compiled form of a policy's rules: built once, immutable, shared by
// every thread; a lookup takes no lock and allocates nothing.
//
// Tiers, tried in order; the first tier with an applicable entry answers:
//   1. exact names       one hash lookup
//   2. wildcard globs    a reversed-label trie keyed by each glob's literal
//                        suffix; among matches, fewest wildcards then most
//                        literal labels wins. Middle-label "*" globs live
//                        here too: one label compare each is cheaper than a
//                        regex and needs no RE2 cache lock.
//   3. re: patterns      one anchored RE2::Set
//   4. CIDR blocks       (IP-literal destinations only) per prefix length, longest first
// Within the winning tier and specificity, deny beats log beats allow.
// An entry applies when the client's roles and version groups intersect the
// rule's, the port is in the rule's ports, and (when the request shows a path)
// the path starts with the entry's path prefix.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/policy/policy.hpp>

namespace chokepoint::policy {

enum class MatchKind : std::uint8_t { None, Exact, Glob, Regex, Cidr };
std::string_view to_string(MatchKind kind);

struct Query {
  std::string_view name;               // normalised host name; empty when `address` is set
  const IpAddress* address = nullptr;  // an IP-literal destination (or an address being vetted)
  std::uint16_t port = 0;
  std::optional<std::string_view> path;  // known for plain HTTP only
  RoleMask roles = kEveryRole;           // the client's role closure
  GroupMask versions = kEveryVersion;    // the client's version groups
};

struct Match {
  MatchKind kind = MatchKind::None;
  Action action = Action::Deny;
  const Rule* rule = nullptr;
  const Destination* destination = nullptr;
  // Set by Matcher::match when some entry names this host, applicable or not:
  // only then can near_miss() find a reason more precise than "no rule".
  bool host_named = false;
  explicit operator bool() const { return rule != nullptr; }
};

// Why the closest non-applicable entry did not apply, for a denied request.
enum class Miss : std::uint8_t { NoDestination, Role, Version, Port, Path };

struct NearMiss {
  Miss miss = Miss::NoDestination;
  Match closest;  // the entry whose host matched, when miss != NoDestination
};

class Matcher {
 public:
  // `policy` must outlive the matcher: matches point into its rules.
  explicit Matcher(const Policy& policy);
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;

  Match match(const Query& query) const;
  // Slow path for messages: the entry that matched the host but not the rest.
  NearMiss near_miss(const Query& query) const;

  // Non-empty when the policy could not be compiled (the regex set is too big).
  const std::string& build_error() const;
  std::size_t entry_count() const;
  std::size_t memory_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<const Impl> impl_;
};

}  // namespace chokepoint::policy
