#include <map>
#include <regex.h>
#include <set>

#include <chokepoint/policy/pattern.hpp>

#include "export_selection.hpp"

namespace chokepoint::tools::detail {
namespace {

std::string escape_ere(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::string_view(".[]()*+?{}|^$\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// Squid reads its regex ACLs as POSIX extended expressions.
std::string glob_ere(const policy::HostPattern& glob) {
  std::string out = "^";
  if (glob.lead == policy::GlobLead::OneOrMore) out += "([^.]+\\.)+";
  for (std::size_t i = 0; i < glob.labels.size(); ++i) {
    if (i > 0) out += "\\.";
    out += glob.labels[i] == "*" ? "[^.]+" : glob.labels[i];
  }
  return out + "$";
}

bool valid_ere(const std::string& pattern) {
  regex_t compiled;
  if (regcomp(&compiled, pattern.c_str(), REG_EXTENDED | REG_NOSUB | REG_ICASE) != 0) return false;
  regfree(&compiled);
  return true;
}

// What one rule (or one path of it) lets out, by ACL type.
struct Acls {
  std::set<std::string> domains;  // dstdomain: "name" or ".domain"
  std::set<std::string> regexes;  // dstdom_regex
  std::set<std::string> blocks;   // dst
  bool empty() const { return domains.empty() && regexes.empty() && blocks.empty(); }
};

// dstdomain warns about (and ignores) a name that a ".domain" of the same
// ACL already covers; leave those out.
std::vector<std::string> without_covered(const std::set<std::string>& domains) {
  std::vector<std::string> out;
  for (const auto& name : domains) {
    bool covered = false;
    for (const auto& other : domains) {
      if (other == name || other.front() != '.') continue;
      const std::string bare = name.front() == '.' ? name.substr(1) : name;
      covered |= bare == other.substr(1)
                     ? name.front() != '.'
                     : bare.size() > other.size() &&
                           bare.compare(bare.size() - other.size(), other.size(), other) == 0;
    }
    if (!covered) out.push_back(name);
  }
  return out;
}

}  // namespace

ExportOutput export_squid(const Selection& s) {
  std::vector<const policy::Destination*> bad_regexes;
  ExportOutput out;
  std::string body;
  body += "acl chokepoint_connect method CONNECT\n";
  for (const auto& selected : s.rules) {
    const policy::Rule& r = *selected.rule;
    const std::string base = "chokepoint_" + identifier(r.id);
    std::map<std::string, Acls> by_path;  // "" for every path
    for (const auto* d : selected.destinations) {
      const auto& p = d->pattern;
      Acls& acls = by_path[d->path];
      switch (p.kind) {
        case policy::PatternKind::Exact:
          acls.domains.insert(p.text);
          break;
        case policy::PatternKind::Glob:
          if (!is_middle_glob(p) && p.lead == policy::GlobLead::ZeroOrMore) {
            acls.domains.insert("." + policy::glob_anchor(p));
          } else {
            acls.regexes.insert(glob_ere(p));
          }
          break;
        case policy::PatternKind::Regex: {
          const std::string ere = "^(" + p.text + ")$";
          if (valid_ere(ere) && ere.find_first_of(" \t\r\n") == std::string::npos) {
            acls.regexes.insert(ere);
          } else {
            bad_regexes.push_back(d);
          }
          break;
        }
        case policy::PatternKind::Cidr:
          acls.blocks.insert(p.cidr.to_string());
          break;
      }
    }
    body += "# rule " + r.id + "\n";
    body += "acl " + base + "_ports port " + ports_text(r.ports, " ", "-") + "\n";
    int path_index = 0;
    for (const auto& [path, acls] : by_path) {
      if (acls.empty()) continue;
      const std::string name = path.empty() ? base : base + "_p" + std::to_string(++path_index);
      std::vector<std::string> lists;
      if (!acls.domains.empty()) {
        body += "acl " + name + "_dst dstdomain -n";
        for (const auto& domain : without_covered(acls.domains))
          body += " " + domain;
        body += "\n";
        lists.push_back(name + "_dst");
      }
      if (!acls.regexes.empty()) {
        body += "acl " + name + "_re dstdom_regex -n -i";
        for (const auto& regex : acls.regexes)
          body += " " + regex;
        body += "\n";
        lists.push_back(name + "_re");
      }
      if (!acls.blocks.empty()) {
        body += "acl " + name + "_ip dst";
        for (const auto& block : acls.blocks)
          body += " " + block;
        body += "\n";
        lists.push_back(name + "_ip");
      }
      if (!path.empty()) {
        // A tunnel shows no path, so the host alone decides CONNECT; plain
        // HTTP must show the prefix.
        body += "acl " + name + "_path urlpath_regex ^" + escape_ere(path) + "\n";
        for (const auto& list : lists) {
          body += "http_access allow chokepoint_connect " + list + " " + base + "_ports\n";
          body += "http_access allow " + list + " " + name + "_path " + base + "_ports\n";
        }
        continue;
      }
      for (const auto& list : lists)
        body += "http_access allow " + list + " " + base + "_ports\n";
    }
  }
  body += "# everything else\nhttp_access deny all\n";

  out.text = comment_block(
      "#", export_header(s, ExportFormat::Squid),
      {note_list("re: rules that are not POSIX extended expressions", bad_regexes,
                 "left out (Squid's dstdom_regex is POSIX; RE2-only syntax needs rewriting)"),
       note_list("CIDR destinations", s.cidrs,
                 "dst ACLs also match names that resolve into the block (chokepoint applies a "
                 "CIDR rule to IP-literal requests only)"),
       note_versions(s), note_roles(s), note_deny(s)});
  out.text +=
      "# Include it in squid.conf before other http_access lines (`include FILE`). Names are\n"
      "# compared as the policy does: dstdomain for names and '.domain', dstdom_regex for\n"
      "# '*.domain' (subdomains only) and middle-label wildcards.\n";
  out.text += body;
  return out;
}

}  // namespace chokepoint::tools::detail
