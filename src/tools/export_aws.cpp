#include <set>

#include <chokepoint/core/json.hpp>
#include <chokepoint/policy/pattern.hpp>

#include "export_selection.hpp"

namespace chokepoint::tools::detail {

// CreateRuleGroup's parameters (aws network-firewall create-rule-group
// --cli-input-json): a stateful domain list. In a domain list ".example.com"
// is example.com and every name below it; a plain name is itself.
ExportOutput export_aws_network_firewall(const Selection& s) {
  std::set<std::string> targets;
  for (const auto& selected : s.rules) {
    for (const auto* d : selected.destinations) {
      const auto& pattern = d->pattern;
      if (pattern.kind == policy::PatternKind::Exact) {
        targets.insert(pattern.text);
      } else if (pattern.kind == policy::PatternKind::Glob && !is_middle_glob(pattern)) {
        targets.insert("." + policy::glob_anchor(pattern));
      }
    }
  }
  // The firewall sizes a domain list at one unit per target and protocol,
  // plus one per protocol; half as much again leaves room to grow, since the
  // capacity is fixed at creation.
  const std::size_t needed = targets.size() * 2 + 2;
  const std::size_t capacity = ((needed + needed / 2 + 99) / 100) * 100;

  const std::string role =
      s.role >= 0 ? s.policy->roles[static_cast<std::size_t>(s.role)].name : std::string();
  std::string name = role.empty() ? std::string("chokepoint") : "chokepoint-" + role;
  for (char& c : name) {
    if (c == '_') c = '-';  // RuleGroupName: [a-zA-Z0-9-]
  }

  ExportOutput out;
  std::string& json = out.text;
  json += "{\n  \"RuleGroupName\": ";
  append_json_string(json, name);
  json += ",\n  \"Type\": \"STATEFUL\",\n  \"Capacity\": " + std::to_string(capacity) +
          ",\n  \"Description\": ";
  append_json_string(json, "Allow-list exported by chokepoint for " +
                               (role.empty() ? std::string("every role") : "role " + role) + " (" +
                               std::to_string(targets.size()) + " domains)");
  json +=
      ",\n  \"RuleGroup\": {\n    \"RulesSource\": {\n      \"RulesSourceList\": {\n"
      "        \"Targets\": [";
  bool first = true;
  for (const auto& target : targets) {
    json += first ? "\n          " : ",\n          ";
    first = false;
    append_json_string(json, target);
  }
  json +=
      "\n        ],\n        \"TargetTypes\": [\"TLS_SNI\", \"HTTP_HOST\"],\n"
      "        \"GeneratedRulesType\": \"ALLOWLIST\"\n      }\n    }\n  }\n}\n";

  out.notes = comment_block(
      "note:", export_header(s, ExportFormat::AwsNetworkFirewall),
      {note_ports(s),
       note_list("subdomain wildcards", s.subdomain_globs,
                 "written '.example.com', which in a domain list also allows example.com itself "
                 "(the policy's '*.example.com' does not)"),
       note_list("middle-label wildcards", s.middle_globs,
                 "left out: a domain list has no one-label wildcard"),
       note_list("re: rules", s.regexes, "left out: a domain list holds no patterns"),
       note_list("CIDR destinations", s.cidrs,
                 "left out: a domain list holds names; use a 5-tuple rule group for them"),
       note_paths(s, "the host is allowed on every path"), note_versions(s), note_roles(s),
       note_deny(s),
       targets.empty() ? "no destination name to list: the rule group is empty" : ""});
  return out;
}

}  // namespace chokepoint::tools::detail
