#include <algorithm>
#include <functional>
#include <set>

#include <chokepoint/core/json.hpp>
#include <chokepoint/policy/interpolation.hpp>
#include <chokepoint/policy/public_suffix.hpp>

#include "learn_model.hpp"
#include "report_format.hpp"

namespace chokepoint::tools::detail {
namespace {

constexpr std::size_t kMaxRuleId = 64;

// The registrable domain (one label above the public suffix), or "addresses".
std::string domain_of(const std::string& host) {
  Host parsed;
  if (normalize_host(host, parsed) != HostError::None || parsed.is_ip()) return "addresses";
  const std::string_view suffix = policy::public_suffix(host);
  if (suffix.size() >= host.size()) return host;
  const std::string_view above = std::string_view(host).substr(0, host.size() - suffix.size() - 1);
  const auto dot = above.rfind('.');
  return std::string(dot == std::string_view::npos ? above : above.substr(dot + 1)) + "." +
         std::string(suffix);
}

std::string rule_id(std::string base, std::set<std::string>& taken) {
  if (base.size() > kMaxRuleId) {
    char hash[20];
    std::snprintf(hash, sizeof hash, ".%08zx", std::hash<std::string>{}(base)&0xffffffff);
    base = base.substr(0, kMaxRuleId - 9) + hash;
  }
  std::string id = base;
  for (int n = 2; taken.count(id); ++n) {
    const std::string suffix = "." + std::to_string(n);
    id = base.substr(0, std::min(base.size(), kMaxRuleId - suffix.size())) + suffix;
  }
  taken.insert(id);
  return id;
}

// Wildcards that would cover several learned names: a parent with at least
// two names below it, not a public suffix, and not the same set as a deeper one.
std::vector<std::string> suggestions(const std::vector<LearnedName>& names,
                                     const std::string& domain) {
  if (domain == "addresses") return {};
  std::map<std::string, std::size_t> below;
  for (const auto& name : names) {
    std::string_view parent = name.host;
    while (true) {
      const auto dot = parent.find('.');
      if (dot == std::string_view::npos) break;
      parent = parent.substr(dot + 1);
      if (parent.size() < domain.size()) break;
      ++below[std::string(parent)];
    }
  }
  std::vector<std::string> out;
  for (const auto& [parent, count] : below) {
    if (count < 2 || policy::is_public_suffix(parent)) continue;
    bool same_as_deeper = false;
    for (const auto& [other, other_count] : below) {
      same_as_deeper |=
          other_count == count && other.size() > parent.size() &&
          other.compare(other.size() - parent.size() - 1, std::string::npos, "." + parent) == 0;
    }
    if (same_as_deeper) continue;
    out.push_back("'*." + parent + "' would cover the " + std::to_string(count) +
                  " names below (and every other name under " + parent + ")");
  }
  return out;
}

// Names a catalog writes with a variable (`agents.workload.${region}...`)
// for this role and these ports: the value that would let the catalog's own
// rule allow them is a better edit than listing the names.
std::vector<std::string> variable_suggestions(const LearnedRule& learned, const policy::Policy& p) {
  const int role = p.find_role(learned.role);
  const policy::RoleMask roles =
      role < 0 ? policy::kEveryRole : p.roles[static_cast<std::size_t>(role)].closure;
  // variable -> (values the names need, rules that would allow them, names)
  struct Need {
    std::set<std::string> values;
    std::set<std::string> rules;
    std::size_t names = 0;
  };
  std::map<std::string, Need> needs;
  for (const auto& name : learned.names) {
    std::set<std::string> counted;
    for (const auto& name_template : p.name_templates) {
      const auto rule = std::find_if(p.rules.begin(), p.rules.end(), [&](const policy::Rule& r) {
        return r.id == name_template.rule_id;
      });
      if (rule == p.rules.end() || rule->action == policy::Action::Deny ||
          (rule->roles & roles) == 0)
        continue;
      const auto on_ports = [&](std::uint16_t port) { return policy::contains(rule->ports, port); };
      if (!std::all_of(learned.ports.begin(), learned.ports.end(), on_ports)) continue;
      const auto bound = policy::bind_template(name_template.host, name.host);
      if (!bound) continue;
      for (const auto& [variable, value] : *bound) {
        Need& need = needs[variable];
        need.values.insert(value);
        need.rules.insert(rule->id);
        if (counted.insert(variable).second) ++need.names;
      }
    }
  }
  std::vector<std::string> out;
  for (const auto& [variable, need] : needs) {
    std::set<std::string> values = need.values;
    if (const auto it = p.variables.find(variable); it != p.variables.end()) {
      for (const auto& value : it->second)
        values.insert(value.text);
    }
    std::string list, rules;
    for (const auto& value : values)
      list += (list.empty() ? "" : ", ") + value;
    for (const auto& id : need.rules)
      rules += (rules.empty() ? "" : ", ") + id;
    out.push_back(std::to_string(need.names) + (need.names == 1 ? " name" : " names") +
                  " below would be allowed by rule " + rules + " with variables: {" + variable +
                  ": [" + list +
                  "]}; setting that instead allows every name the rule writes "
                  "with it");
  }
  return out;
}

std::string ports_yaml(const std::vector<std::uint16_t>& ports) {
  std::string out = "[";
  for (std::size_t i = 0; i < ports.size(); ++i)
    out += (i ? ", " : "") + std::to_string(ports[i]);
  return out + "]";
}

std::string quoted(std::string_view text) {
  std::string out;
  append_json_string(out, text);  // a JSON string is a YAML double-quoted scalar
  return out;
}

// Comment text: printable ASCII only.
std::string comment(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  return out;
}

std::string seen_note(std::uint64_t count, std::int64_t first, std::int64_t last) {
  return count_text(count) + (count == 1 ? " connection, " : " connections, ") + "first " +
         time_text(first) + ", last " + time_text(last);
}

}  // namespace

std::vector<LearnedRule> learned_rules(const std::vector<const Group*>& groups,
                                       const policy::Snapshot& config) {
  const policy::Policy& p = config.policy();
  // role -> host -> (ports, count, first, last)
  struct Use {
    std::set<std::uint16_t> ports;
    std::uint64_t count = 0;
    std::int64_t first = 0, last = 0;
  };
  std::map<std::string, std::map<std::string, Use>> unexplained;
  for (const Group* g : groups) {
    const auto identity = config.identity_for(g->role, g->version);
    for (const auto& [key, seen] : g->seen) {
      Host host;
      if (normalize_host(key.first, host) != HostError::None) continue;
      if (explains(config, host, key.second, seen, identity)) continue;
      Use& use = unexplained[p.role_name(g->role)][key.first];
      use.ports.insert(key.second);
      use.count += seen.count;
      if (use.first == 0 || seen.first < use.first) use.first = seen.first;
      use.last = std::max(use.last, seen.last);
    }
  }

  // domain -> role -> ports -> names
  std::map<std::string,
           std::map<std::string, std::map<std::vector<std::uint16_t>, std::vector<LearnedName>>>>
      by_domain;
  for (const auto& [role, hosts] : unexplained) {
    for (const auto& [host, use] : hosts) {
      std::vector<std::uint16_t> ports(use.ports.begin(), use.ports.end());
      by_domain[domain_of(host)][role][ports].push_back(
          LearnedName{host, use.count, use.first, use.last});
    }
  }

  std::set<std::string> taken;
  for (const auto& rule : p.rules)
    taken.insert(rule.id);
  std::vector<LearnedRule> rules;
  for (auto& [domain, roles] : by_domain) {
    for (auto& [role, port_sets] : roles) {
      int index = 0;
      for (auto& [ports, names] : port_sets) {
        std::string base = "learned." + domain;
        if (roles.size() > 1) base += "." + role;
        if (port_sets.size() > 1) base += ".p" + std::to_string(++index);
        LearnedRule rule;
        rule.id = rule_id(base, taken);
        rule.domain = domain;
        rule.role = role;
        rule.ports = ports;
        rule.names = std::move(names);
        rule.suggestions = suggestions(rule.names, domain);
        for (auto& suggestion : variable_suggestions(rule, p))
          rule.suggestions.push_back(std::move(suggestion));
        rules.push_back(std::move(rule));
      }
    }
  }
  return rules;
}

std::string render_site_file(const Learned& l) {
  const policy::Policy& p = *l.policy;
  std::string out;
  out += "# Learned by `chokepoint learn` from " + comment(std::to_string(l.sources.size())) +
         (l.sources.size() == 1 ? " file: " : " files: ");
  for (std::size_t i = 0; i < l.sources.size(); ++i)
    out += (i ? ", " : "") + comment(l.sources[i]);
  out += "\n#   " + count_text(l.records) + " records, " + count_text(l.learned_records) +
         " of them connections let out (allowed, logged, or let out by audit mode), from " +
         time_text(l.first) + " to " + time_text(l.last) + ".\n";
  if (l.refused_records > 0) {
    out += "#   " + count_text(l.refused_records) +
           " refusals that were enforced are not learned: they stay refused.\n";
  }
  if (l.malformed > 0) out += "#   " + count_text(l.malformed) + " lines were not records.\n";
  out +=
      "# Review it, check it (`chokepoint check --config FILE`), then serve it: it lets out what\n"
      "# the records show and nothing else the included configuration does not already allow.\n"
      "version: 1\n";
  out += "include: " + quoted(l.options->include) + "\n";
  out += "mode: enforce\n";

  std::size_t entries = 0;
  for (const Group* g : l.groups)
    entries += g->write_entry ? 1 : 0;
  out +=
      "\n# Clients: the role whose rules explain most of each one's traffic, and its version\n"
      "# when its traffic pins one. Clients the configuration already maps keep their mapping.\n";
  if (entries == 0) {
    out += "# (every client seen is mapped already)\n";
  } else {
    out += "clients:\n";
  }
  if (entries < l.groups.size()) {
    out += "  # " + count_text(l.groups.size() - entries) + " of the " +
           count_text(l.groups.size()) +
           " clients seen keep what the configuration maps them to (or its default role).\n";
  }
  for (const Group* g : l.groups) {
    const std::string seen = seen_note(g->connections, g->first, g->last);
    if (!g->write_entry) continue;
    if (!g->note.empty()) out += "  # " + comment(g->note) + "\n";
    out += "  - {";
    out += g->user.empty() ? "cidr: " + quoted(g->block->to_string()) : "user: " + quoted(g->user);
    out += ", role: " + p.role_name(g->role);
    if (g->version) out += ", version: " + quoted(g->version->to_string());
    out += "}  # " + seen + "\n";
  }

  out +=
      "\n# Destinations outside what these roles are allowed, by registrable domain: exact\n"
      "# names on the ports seen. Wildcards are only suggested: each would let out names\n"
      "# nobody asked for.\n";
  if (l.rules.empty()) {
    out += "# (none: the configuration explains every connection)\n";
    return out;
  }
  out += "rules:\n";
  for (const auto& rule : l.rules) {
    std::uint64_t count = 0;
    std::int64_t first = 0, last = 0;
    for (const auto& name : rule.names) {
      count += name.count;
      if (first == 0 || name.first < first) first = name.first;
      last = std::max(last, name.last);
    }
    out += "  - id: " + rule.id + "\n";
    out += "    service: " + quoted("Learned: " + rule.domain) + "\n";
    out += "    description: " +
           quoted("Seen in the audit records: " + seen_note(count, first, last) + ".") + "\n";
    out += "    roles: [" + rule.role + "]\n";
    out += "    ports: " + ports_yaml(rule.ports) + "\n";
    out += "    destinations:\n";
    for (const auto& suggestion : rule.suggestions)
      out += "      # suggestion: " + comment(suggestion) + "\n";
    for (const auto& name : rule.names) {
      out += "      - " + quoted(name.host) + "  # " +
             seen_note(name.count, name.first, name.last) + "\n";
    }
  }
  return out;
}

}  // namespace chokepoint::tools::detail
