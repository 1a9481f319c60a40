#include <algorithm>

#include <chokepoint/policy/policy.hpp>

namespace chokepoint::policy {

std::string_view to_string(Action action) {
  switch (action) {
    case Action::Allow:
      return "allow";
    case Action::Log:
      return "log";
    case Action::Deny:
      return "deny";
  }
  return "deny";
}

std::string_view to_string(Mode mode) {
  return mode == Mode::Audit ? "audit" : "enforce";
}

bool contains(const PortSet& ports, std::uint16_t port) {
  return std::any_of(ports.begin(), ports.end(),
                     [port](const PortRange& r) { return r.contains(port); });
}

std::string to_string(const PortSet& ports) {
  std::string out;
  for (const auto& range : ports) {
    if (!out.empty()) out += ',';
    out += std::to_string(range.first);
    if (range.last != range.first) out += '-' + std::to_string(range.last);
  }
  return out;
}

int Policy::find_role(std::string_view name) const {
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (roles[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Policy::find_group(std::string_view name) const {
  for (std::size_t i = 0; i < version_groups.size(); ++i) {
    if (version_groups[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string Policy::role_name(int role) const {
  if (role < 0 || static_cast<std::size_t>(role) >= roles.size()) return "any";
  return roles[static_cast<std::size_t>(role)].name;
}

std::string Policy::where(const SourcePos& pos) const {
  std::string out = pos.file >= 0 && static_cast<std::size_t>(pos.file) < files.size()
                        ? files[static_cast<std::size_t>(pos.file)]
                        : std::string("?");
  return out + ':' + std::to_string(pos.line) + ':' + std::to_string(pos.column);
}

}  // namespace chokepoint::policy
