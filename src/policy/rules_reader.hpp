// Private to the loader: what is allowed where. Variables, rules and their
// destinations (with `${variable}` expanded and duplicates warned about),
// and the port tables.
#pragma once

#include <map>
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

 private:
  GroupMask group_mask(const YAML::Node& node, std::string& label);
  void read_destinations(const YAML::Node& list, Rule& rule, GroupMask versions,
                         const std::string& version_label);
  std::vector<std::pair<std::string, SourcePos>> expand(const std::string& written,
                                                        const SourcePos& at);
  void add_destination(Rule& rule, const std::string& text, const std::string& written,
                       const SourcePos& value_pos, const SourcePos& at, GroupMask versions,
                       const std::string& version_label);

  LoadState& state_;
  std::map<std::string, SourcePos> rule_ids_;
  std::unordered_map<std::string, SourcePos> destination_keys_;
};

}  // namespace chokepoint::policy::detail
