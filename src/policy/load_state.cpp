#include "load_state.hpp"

namespace chokepoint::policy::detail {

std::string LoadState::roles_hint() const {
  std::string hint = " (roles: any";
  for (const auto& role : policy.roles)
    hint += ", " + role.name;
  return hint + ")";
}

int LoadState::role_index(const std::string& name, const YAML::Node& node) {
  if (name == "any") return kAnyRole;
  const int index = policy.find_role(name);
  if (index < 0) {
    reader.error(node, "unknown role " + quote(name) + roles_hint());
    return kUnknownRole;
  }
  return index;
}

bool is_identifier(std::string_view name, bool allow_dot) {
  if (name.empty() || name.size() > 64) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    (allow_dot && (c == '.' || c == '+'));
    if (!ok) return false;
  }
  return true;
}

}  // namespace chokepoint::policy::detail
