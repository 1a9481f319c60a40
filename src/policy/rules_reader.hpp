// Private to the loader: what is allowed where. Variables, rules and their
// destinations (with `${variable}` expanded by interpolation.hpp and
// duplicates warned about), and the port tables.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "load_state.hpp"

namespace chokepoint::policy::detail {

class RulesReader {
 public:
  explicit RulesReader(LoadState& state) : state_(state) {}

  // A definition: a later file replaces a variable's value.
  void read_variables(const YAML::Node& node);
  // One entry of `rules:` or `ports:` (need roles, groups and variables).
  void read_rule(const YAML::Node& node);
  void read_port_entry(const YAML::Node& node);
  // After every rule: one warning per variable with no value that names use
  // (`agents.${region}.example.com`), at the place the variable was last set.
  void warn_unset_variables();

 private:
  GroupMask group_mask(const YAML::Node& node, std::string& label);
  void read_destinations(const YAML::Node& list, Rule& rule, GroupMask versions,
                         const std::string& version_label);
  void report_once(const SourcePos& pos, const std::string& message);
  void add_destination(Rule& rule, const std::string& text, const std::string& written,
                       const SourcePos& value_pos, const SourcePos& at, GroupMask versions,
                       const std::string& version_label);

  LoadState& state_;
  std::map<std::string, SourcePos> rule_ids_;
  std::unordered_map<std::string, SourcePos> destination_keys_;
  std::map<std::string, SourcePos> variable_set_at_;
  // Per variable with no value: the rules whose names use it, and how many
  // destinations they write with it.
  struct UnsetUse {
    std::vector<std::string> rules;
    std::size_t destinations = 0;
  };
  std::map<std::string, UnsetUse> unset_uses_;
  std::set<std::string> reported_;  // "file:line:col message": one value, many uses
};

}  // namespace chokepoint::policy::detail
