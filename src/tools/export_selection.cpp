#include "export_selection.hpp"

#include <algorithm>

namespace chokepoint::tools::detail {
namespace {

// Policy text inside a one-line comment: printable ASCII only.
std::string example_text(const policy::Destination& d) {
  std::string out = "'";
  for (const char c : d.pattern.text + d.path) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  return out + "'";
}

}  // namespace

bool is_middle_glob(const policy::HostPattern& pattern) {
  return pattern.kind == policy::PatternKind::Glob &&
         std::find(pattern.labels.begin(), pattern.labels.end(), "*") != pattern.labels.end();
}

Selection select_rules(const policy::Policy& policy, int role) {
  Selection s;
  s.policy = &policy;
  s.role = role;
  if (role >= 0) s.roles = policy.roles[static_cast<std::size_t>(role)].closure;
  policy::RoleMask first_roles = 0;
  for (const auto& rule : policy.rules) {
    if ((rule.roles & s.roles) == 0 || rule.destinations.empty()) continue;
    if (rule.action == policy::Action::Deny) {
      s.deny_rules.push_back(&rule);
      continue;
    }
    SelectedRule selected{&rule, {}};
    for (const auto& d : rule.destinations) {
      selected.destinations.push_back(&d);
      const auto& p = d.pattern;
      if (p.kind == policy::PatternKind::Regex) s.regexes.push_back(&d);
      if (p.kind == policy::PatternKind::Cidr) s.cidrs.push_back(&d);
      if (p.kind == policy::PatternKind::Glob) {
        if (is_middle_glob(p)) {
          s.middle_globs.push_back(&d);
        } else if (p.lead == policy::GlobLead::OneOrMore) {
          s.subdomain_globs.push_back(&d);
        } else {
          s.domain_globs.push_back(&d);
        }
      }
      if (!d.path.empty()) s.with_path.push_back(&d);
      if (d.versions != policy::kEveryVersion) s.versioned.push_back(&d);
    }
    const policy::RoleMask rule_roles = rule.roles & s.roles;
    if (s.rules.empty()) first_roles = rule_roles;
    if (rule_roles != first_roles) s.several_roles = true;
    s.rules.push_back(std::move(selected));
  }
  return s;
}

std::string identifier(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    out += keep ? c : (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : '_');
  }
  return out;
}

std::string port_text(const policy::PortRange& range, std::string_view range_separator) {
  std::string out = std::to_string(range.first);
  if (range.last != range.first) {
    out += range_separator;
    out += std::to_string(range.last);
  }
  return out;
}

std::string ports_text(const policy::PortSet& ports, std::string_view separator,
                       std::string_view range_separator) {
  std::string out;
  for (const auto& range : ports) {
    if (!out.empty()) out += separator;
    out += port_text(range, range_separator);
  }
  return out;
}

std::string note_list(std::string_view label, const std::vector<const policy::Destination*>& list,
                      std::string_view consequence) {
  if (list.empty()) return "";
  std::string out = std::string(label) + " (" + std::to_string(list.size()) + ", e.g. " +
                    example_text(*list.front()) + "): " + std::string(consequence);
  return out;
}

std::string note_ports(const Selection& s) {
  std::vector<std::string> seen;
  for (const auto& selected : s.rules) {
    const std::string text = ports_text(selected.rule->ports, ",", "-");
    if (std::find(seen.begin(), seen.end(), text) == seen.end()) seen.push_back(text);
  }
  if (seen.empty()) return "";
  std::string list;
  for (std::size_t i = 0; i < seen.size() && i < 4; ++i)
    list += (i ? "; " : "") + seen[i];
  if (seen.size() > 4) list += "; ...";
  return "ports: the rules allow " + list + "; this format carries no port";
}

std::string note_paths(const Selection& s, std::string_view consequence) {
  return note_list("paths", s.with_path, consequence);
}

std::string note_versions(const Selection& s) {
  if (s.versioned.empty()) return "";
  const std::size_t n = s.versioned.size();
  return "versions: " + std::to_string(n) + (n == 1 ? " destination is" : " destinations are") +
         " for some versions only (e.g. " + example_text(*s.versioned.front()) + " for " +
         s.versioned.front()->version_label +
         "); here every version's destinations are allowed to every client";
}

std::string note_roles(const Selection& s) {
  if (s.role >= 0) {
    return "roles: only the rules of role '" +
           s.policy->roles[static_cast<std::size_t>(s.role)].name +
           "' (and the roles it includes); apply this to that role's clients only";
  }
  if (!s.several_roles) return "";
  return "roles: the rules of every role are merged, so every client gets all of them "
         "(export --role ROLE for one role's)";
}

std::string note_deny(const Selection& s) {
  if (s.deny_rules.empty()) return "";
  std::string ids;
  for (const auto* rule : s.deny_rules)
    ids += (ids.empty() ? "" : ", ") + rule->id;
  return "deny rules (" + ids +
         "): left out; this is an allow-list and cannot weigh a deny against a more specific "
         "allow";
}

std::string comment_block(std::string_view marker, std::string_view header,
                          const std::vector<std::string>& lines) {
  std::string out;
  out += marker;
  out += ' ';
  out += header;
  out += '\n';
  bool any = false;
  for (const auto& line : lines) {
    if (line.empty()) continue;
    if (!any) {
      out += marker;
      out += " Not expressed here:\n";
      any = true;
    }
    out += marker;
    out += "   - ";
    out += line;
    out += '\n';
  }
  if (!any) {
    out += marker;
    out += " Everything the selected rules say is expressed here.\n";
  }
  return out;
}

}  // namespace chokepoint::tools::detail
