// Private to the loader: what its three parts share while one configuration
// is read. The parts are policy_files (reading files, permissions,
// includes, cycles, the digest), identities (roles, version groups, clients,
// the default role) and rules (variables, rules, destinations, port tables);
// loader.cpp runs them in order.
#pragma once

#include <string>
#include <string_view>

#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/policy/policy.hpp>
#include <chokepoint/policy/yaml_reader.hpp>

namespace chokepoint::policy::detail {

// One file of the configuration, parsed.
struct Document {
  int file;  // index into Policy::files
  YAML::Node root;
};

struct LoadState {
  LoadState() = default;
  LoadState(const LoadState&) = delete;
  LoadState& operator=(const LoadState&) = delete;

  Diagnostics diagnostics;
  Policy policy;
  YamlReader reader{diagnostics, policy.files};  // after both: it points at them

  // " (roles: any, agent, ...)", for messages about an unknown role.
  std::string roles_hint() const;
  // The index of role `name`, kAnyRole for "any", or -2 after reporting an unknown one at `node`.
  int role_index(const std::string& name, const YAML::Node& node);
};

inline constexpr int kUnknownRole = -2;

// a-z or 0-9 first, then a-z, 0-9, '-', '_' (and '.', '+' with `allow_dot`); at most 64.
bool is_identifier(std::string_view name, bool allow_dot);

}  // namespace chokepoint::policy::detail
