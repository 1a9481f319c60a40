// The policy as other firewalls' rules (`chokepoint export`), so a security
// team can enforce the same allow-list in a second layer.
//
// Formats:
//   nftables              the port tables per component as sets, the clients'
//                         blocks per role, the CIDR destinations per rule, and a
//                         forward chain that lets the components reach them
//   aws-network-firewall  CreateRuleGroup parameters: a stateful domain list
//                         (RulesSourceList, TLS_SNI and HTTP_HOST, ALLOWLIST)
//   suricata              pass rules on tls.sni and http.host with the rules'
//                         ports, and on addresses for CIDR destinations
//   squid                 dstdomain / dstdom_regex / dst and port ACLs with
//                         http_access lines
//   domains               one destination per line
//
// No format holds everything a policy says. Each output starts with a comment
// naming what it could not express for this policy (apex handling,
// middle-label wildcards, `re:` rules, paths, ports, roles and versions);
// for JSON, which has no comments, those lines go to `notes` (stderr).
// Everything here is allow-list: `deny` rules are listed as left out.
// Pure: the text depends only on the policy and the options.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/policy/policy.hpp>

namespace chokepoint::tools {

enum class ExportFormat : std::uint8_t { Nftables, AwsNetworkFirewall, Suricata, Squid, Domains };

// "nftables", "aws-network-firewall", "suricata", "squid", "domains".
std::optional<ExportFormat> parse_export_format(std::string_view name);
std::string_view to_string(ExportFormat format);

struct ExportOptions {
  ExportFormat format = ExportFormat::Domains;
  // Only the rules this role (with the roles it includes) may use; kAnyRole:
  // every rule, every role's clients.
  int role = policy::kAnyRole;
};

struct ExportOutput {
  std::string text;   // the rules, limitations in a leading comment when the format has comments
  std::string notes;  // limitations for formats without comments (JSON); one per line
};

ExportOutput export_policy(const policy::Policy& policy, const ExportOptions& options);

}  // namespace chokepoint::tools
