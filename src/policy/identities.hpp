// Private to the loader: who is asking. Roles (and what each includes),
// version groups, the default role, and the clients that map a source
// address or a proxy user to a role and version.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "load_state.hpp"

namespace chokepoint::policy::detail {

class Identities {
 public:
  explicit Identities(LoadState& state) : state_(state) {}

  // Definitions, file by file.
  void read_roles(const YAML::Node& node);
  void read_version_groups(const YAML::Node& node);
  void read_default_role(const YAML::Node& node);
  // Once every file's definitions are in: role includes and the default role.
  void resolve_roles();
  // One entry of `clients:` (needs resolved roles).
  void read_client(const YAML::Node& node);
  // Once every file is in: a CIDR or user mapped twice.
  void check_clients();
  // `inventory:`, clients from the manager's computer list; a later file's
  // replaces an earlier one's.
  void read_inventory(const YAML::Node& node);

 private:
  LoadState& state_;
  std::map<std::string, std::vector<SourcePos>> include_pos_;  // role -> its `includes` entries
  std::string default_role_;
  SourcePos default_role_pos_;
};

}  // namespace chokepoint::policy::detail
