// Private to the exporters: the rules an export covers, and the sentences
// every format uses to say what it left out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/policy/policy.hpp>
#include <chokepoint/tools/export.hpp>

namespace chokepoint::tools::detail {

struct SelectedRule {
  const policy::Rule* rule = nullptr;
  std::vector<const policy::Destination*> destinations;  // file order
};

struct Selection {
  const policy::Policy* policy = nullptr;
  int role = policy::kAnyRole;
  policy::RoleMask roles = policy::kEveryRole;  // the role's closure
  std::vector<SelectedRule> rules;              // allow and log rules with a destination
  std::vector<const policy::Rule*> deny_rules;  // left out of every allow-list

  // What the selected destinations hold, for the notes: the first example of each.
  std::vector<const policy::Destination*> subdomain_globs;  // *.example.com
  std::vector<const policy::Destination*> domain_globs;     // .example.com
  std::vector<const policy::Destination*> middle_globs;     // ec2.*.amazonaws.com
  std::vector<const policy::Destination*> regexes;
  std::vector<const policy::Destination*> cidrs;
  std::vector<const policy::Destination*> with_path;
  std::vector<const policy::Destination*> versioned;  // for some version groups only
  bool several_roles = false;                         // the rules are not all for the same roles
};

Selection select_rules(const policy::Policy& policy, int role);

bool is_middle_glob(const policy::HostPattern& pattern);
// `text` with everything but [a-z0-9_] turned into '_' (for ACL and set names).
std::string identifier(std::string_view text);
// "80", "11000-11999" (with `range` between the ends).
std::string port_text(const policy::PortRange& range, std::string_view range_separator);
// Joined port texts: "80, 443, 11000-11999".
std::string ports_text(const policy::PortSet& ports, std::string_view separator,
                       std::string_view range_separator);

// The limitation sentences shared by formats (each a line without a comment
// marker, "" when the policy holds nothing of the kind).
std::string note_ports(const Selection& s);
std::string note_paths(const Selection& s, std::string_view consequence);
std::string note_versions(const Selection& s);
std::string note_roles(const Selection& s);
std::string note_deny(const Selection& s);
std::string note_list(std::string_view label, const std::vector<const policy::Destination*>& list,
                      std::string_view consequence);

// "# line\n" for each non-empty line, after a header line.
std::string comment_block(std::string_view marker, std::string_view header,
                          const std::vector<std::string>& lines);

// One function per format (export_<format>.cpp).
ExportOutput export_nftables(const Selection& s);
ExportOutput export_aws_network_firewall(const Selection& s);
ExportOutput export_suricata(const Selection& s);
ExportOutput export_squid(const Selection& s);
ExportOutput export_domains(const Selection& s);

// "chokepoint export --format F: every role, from FILE".
std::string export_header(const Selection& s, ExportFormat format);

}  // namespace chokepoint::tools::detail
