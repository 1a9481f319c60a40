#include "rules_reader.hpp"

#include <algorithm>

#include <chokepoint/core/rate.hpp>
#include <chokepoint/policy/interpolation.hpp>
#include <chokepoint/policy/pattern.hpp>

namespace chokepoint::policy::detail {
namespace {

constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;

// "host/path" -> host and "/path". An IP literal followed by "/digits" is a
// CIDR block, and what follows it is the path.
std::pair<std::string_view, std::string_view> split_path(std::string_view text) {
  if (text.substr(0, 3) == "re:") return {text, {}};
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return {text, {}};
  if (IpAddress::parse(text.substr(0, slash))) {
    auto end = slash + 1;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9')
      ++end;
    if (end > slash + 1 && (end == text.size() || text[end] == '/')) {
      return {text.substr(0, end), text.substr(end)};
    }
  }
  return {text.substr(0, slash), text.substr(slash)};
}

bool valid_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') return false;
  }
  return true;
}

}  // namespace

void RulesReader::read_variables(const YAML::Node& node) {
  for (const auto& [key, value] : state_.reader.map_entries(node, "variables")) {
    const std::string& name = key.Scalar();
    if (!is_identifier(name, false)) {
      state_.reader.error(key, "bad variable name " + quote(name) + ": use a-z, 0-9, '-' and '_'");
      continue;
    }
    std::vector<VariableValue> values;
    for (const auto& [text, item] : state_.reader.scalar_list(value, "variable " + quote(name))) {
      const auto same = [&text = text](const VariableValue& v) { return v.text == text; };
      if (const auto it = std::find_if(values.begin(), values.end(), same); it != values.end()) {
        state_.reader.warning(state_.reader.pos(item), "variable " + quote(name) + " lists " +
                                                           quote(text) + " twice (first at " +
                                                           state_.policy.where(it->pos) + ")");
        continue;
      }
      values.push_back(VariableValue{text, state_.reader.pos(item)});
    }
    // A later file (the operator's, which includes the catalog) replaces the value.
    state_.policy.variables[name] = std::move(values);
    variable_set_at_[name] = state_.reader.pos(key);
  }
}

void RulesReader::read_rule(const YAML::Node& node) {
  Rule rule;
  rule.pos = state_.reader.pos(node);
  rule.ports = {PortRange{kHttpPort, kHttpPort}, PortRange{kHttpsPort, kHttpsPort}};
  GroupMask rule_versions = kEveryVersion;
  std::string rule_version_label;
  std::optional<YAML::Node> destinations;
  std::optional<YAML::Node> versions_node;
  for (const auto& [key, value] : state_.reader.map_entries(
           node, "a rule",
           {"id", "action", "service", "description", "roles", "ports", "versions", "destinations",
            "idle_timeout", "half_close_timeout", "max_rate", "upstream_proxy"})) {
    const std::string& k = key.Scalar();
    if (k == "id") {
      rule.id = state_.reader.scalar(value, "id").value_or("");
      if (!is_identifier(rule.id, true)) {
        state_.reader.error(value,
                            "bad rule id " + quote(rule.id) + ": use a-z, 0-9, '-', '_' and '.'");
      } else if (const auto [it, inserted] = rule_ids_.emplace(rule.id, rule.pos); !inserted) {
        state_.reader.error(value, "rule id " + quote(rule.id) + " is already used at " +
                                       state_.policy.where(it->second));
      }
    } else if (k == "action") {
      if (const auto text = state_.reader.scalar(value, "action")) {
        if (*text == "allow") {
          rule.action = Action::Allow;
        } else if (*text == "deny") {
          rule.action = Action::Deny;
        } else if (*text == "log") {
          rule.action = Action::Log;
        } else {
          state_.reader.error(value, "action must be allow, deny or log, not " + quote(*text));
        }
      }
    } else if (k == "service") {
      rule.service = state_.reader.scalar(value, "service").value_or("");
    } else if (k == "description") {
      rule.description = state_.reader.scalar(value, "description").value_or("");
    } else if (k == "roles") {
      rule.roles = 0;
      for (const auto& [name, item] : state_.reader.scalar_list(value, "roles")) {
        const int index = state_.role_index(name, item);
        if (index == kAnyRole) rule.roles = kEveryRole;
        if (index >= 0) rule.roles |= RoleMask{1} << index;
        rule.role_names.push_back(name);
      }
      if (rule.role_names.empty())
        state_.reader.error(value, "roles must name at least one role (or 'any')");
    } else if (k == "ports") {
      if (auto ports = state_.reader.ports(value)) rule.ports = std::move(*ports);
    } else if (k == "idle_timeout") {
      rule.idle_timeout = state_.reader.duration(value, "idle_timeout");
    } else if (k == "half_close_timeout") {
      rule.half_close_timeout = state_.reader.duration(value, "half_close_timeout");
    } else if (k == "max_rate") {
      if (const auto text = state_.reader.scalar(value, "max_rate")) {
        rule.max_rate = parse_rate(*text);
        if (!rule.max_rate || *rule.max_rate <= 0)
          state_.reader.error(
              value, "max_rate: expected a rate such as 10/s or 600/m, not '" + *text + "'");
      }
    } else if (k == "upstream_proxy") {
      if (const auto text = state_.reader.scalar(value, "upstream_proxy")) {
        std::string why;
        if (*text == "direct") {
          rule.upstream_direct = true;
        } else if (auto parent = UpstreamProxy::parse(*text, &why)) {
          rule.upstream_proxy = std::move(*parent);
        } else {
          state_.reader.error(value,
                              "upstream_proxy: " + why + "; or direct, to bypass the parent");
        }
      }
    } else if (k == "versions") {
      versions_node = value;
      rule_versions = group_mask(value, rule_version_label);
    } else {
      destinations = value;
    }
  }
  if (!node.IsMap()) return;
  if (!node["id"]) state_.reader.error(node, "a rule needs an 'id'");
  if (!destinations) {
    state_.reader.error(node, "rule " + quote(rule.id) + " needs 'destinations'");
  } else if (destinations->IsMap()) {
    if (versions_node) {
      state_.reader.error(*versions_node,
                          "'versions' cannot be combined with destinations grouped by version");
    }
    for (const auto& [group, list] : state_.reader.map_entries(*destinations, "destinations")) {
      std::string label;
      const GroupMask mask = group_mask(group, label);
      read_destinations(list, rule, mask, label);
    }
  } else {
    read_destinations(*destinations, rule, rule_versions, rule_version_label);
  }
  state_.policy.rules.push_back(std::move(rule));
}

GroupMask RulesReader::group_mask(const YAML::Node& node, std::string& label) {
  GroupMask mask = 0;
  for (const auto& [name, item] : state_.reader.scalar_list(node, "versions")) {
    const int index = state_.policy.find_group(name);
    if (index < 0) {
      std::string known;
      for (const auto& group : state_.policy.version_groups)
        known += (known.empty() ? "" : ", ") + group.name;
      state_.reader.error(item,
                          "unknown version group " + quote(name) + " (groups: " + known + ")");
      continue;
    }
    mask |= GroupMask{1} << index;
    label += (label.empty() ? "" : ",") + name;
  }
  return mask;
}

void RulesReader::read_destinations(const YAML::Node& list, Rule& rule, GroupMask versions,
                                    const std::string& version_label) {
  const auto entries = state_.reader.scalar_list(list, "destinations");
  if (entries.empty()) state_.reader.error(list, "destinations must name at least one destination");
  for (const auto& [written, item] : entries) {
    const SourcePos at = state_.reader.pos(item);
    const Expansion expansion = expand_destination(written, at, state_.policy.variables);
    for (const auto& error : expansion.errors)
      report_once(error.pos, error.message);
    for (const auto& [text, value_pos] : expansion.texts) {
      add_destination(rule, text, written, value_pos, at, versions, version_label);
    }
    if (expansion.inside_name && expansion.errors.empty()) {
      state_.policy.name_templates.push_back(
          NameTemplate{rule.id, written.substr(0, written.find('/')), at});
      for (const auto& name : expansion.unset) {
        UnsetUse& use = unset_uses_[name];
        if (std::find(use.rules.begin(), use.rules.end(), rule.id) == use.rules.end())
          use.rules.push_back(rule.id);
        ++use.destinations;
      }
    }
  }
}

// A bad value is reported where it was written, once, however many
// destinations use it.
void RulesReader::report_once(const SourcePos& pos, const std::string& message) {
  if (reported_.insert(state_.policy.where(pos) + ' ' + message).second)
    state_.reader.error(pos, message);
}

void RulesReader::warn_unset_variables() {
  for (const auto& [name, use] : unset_uses_) {
    std::string rules;
    for (const auto& id : use.rules)
      rules += (rules.empty() ? "" : ", ") + id;
    const auto at = variable_set_at_.find(name);
    const bool one = use.destinations == 1;
    state_.reader.warning(
        at == variable_set_at_.end() ? SourcePos{} : at->second,
        "variable " + quote(name) + " has no value, so the " + std::to_string(use.destinations) +
            (one ? " destination whose name uses" : " destinations whose names use") + " it (" +
            (use.rules.size() == 1 ? "rule " : "rules ") + rules + ") " +
            (one ? "allows" : "allow") + " nothing until a file sets it: variables: {" + name +
            ": [VALUE]}");
  }
}

void RulesReader::add_destination(Rule& rule, const std::string& text, const std::string& written,
                                  const SourcePos& value_pos, const SourcePos& at,
                                  GroupMask versions, const std::string& version_label) {
  const auto [host_text, path] = split_path(text);
  std::string error;
  auto pattern = parse_host_pattern(host_text, error);
  if (!pattern) {
    state_.reader.error(value_pos, error);
    return;
  }
  if (!path.empty() && !valid_path(path)) {
    state_.reader.error(value_pos,
                        "bad path " + quote(path) + ": printable ASCII starting with '/'");
    return;
  }
  Destination destination;
  destination.pattern = std::move(*pattern);
  destination.path = std::string(path);
  destination.versions = versions;
  destination.version_label = version_label;
  destination.written = written;
  destination.pos = at;
  const std::string key = rule.id + ' ' + destination.pattern.text + destination.path + ' ' +
                          std::to_string(destination.versions);
  if (const auto [it, inserted] = destination_keys_.emplace(key, at); !inserted) {
    state_.reader.warning(value_pos, "duplicate destination " + quote(text) + " in rule " +
                                         quote(rule.id) + " (first at " +
                                         state_.policy.where(it->second) + ")");
    return;
  }
  rule.destinations.push_back(std::move(destination));
}

void RulesReader::read_port_entry(const YAML::Node& node) {
  PortTableEntry entry;
  entry.pos = state_.reader.pos(node);
  entry.protocols = {"tcp"};
  for (const auto& [key, value] : state_.reader.map_entries(
           node, "a port table entry",
           {"component", "direction", "ports", "protocols", "required", "service", "note"})) {
    const std::string& k = key.Scalar();
    if (k == "component") {
      entry.component = state_.reader.scalar(value, "component").value_or("");
      if (!entry.component.empty() && state_.policy.find_role(entry.component) < 0) {
        state_.reader.error(value,
                            "unknown component " + quote(entry.component) + state_.roles_hint());
      }
    } else if (k == "direction") {
      const auto text = state_.reader.scalar(value, "direction").value_or("");
      if (text == "inbound") {
        entry.direction = Direction::Inbound;
      } else if (text == "outbound") {
        entry.direction = Direction::Outbound;
      } else {
        state_.reader.error(value, "direction must be inbound or outbound, not " + quote(text));
      }
    } else if (k == "ports") {
      if (auto ports = state_.reader.ports(value)) entry.ports = std::move(*ports);
    } else if (k == "protocols") {
      entry.protocols.clear();
      for (const auto& [text, item] : state_.reader.scalar_list(value, "protocols")) {
        if (text != "tcp" && text != "udp")
          state_.reader.error(item, "protocol must be tcp or udp, not " + quote(text));
        entry.protocols.push_back(text);
      }
    } else if (k == "required") {
      entry.required = state_.reader.boolean(value, "required").value_or(true);
    } else if (k == "service") {
      entry.service = state_.reader.scalar(value, "service").value_or("");
    } else {
      entry.note = state_.reader.scalar(value, "note").value_or("");
    }
  }
  if (!node.IsMap()) return;
  for (const char* required : {"component", "direction", "ports", "service"}) {
    if (!node[required])
      state_.reader.error(node, std::string("a port table entry needs '") + required + "'");
  }
  state_.policy.port_table.push_back(std::move(entry));
}

}  // namespace chokepoint::policy::detail
