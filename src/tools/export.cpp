#include <chokepoint/tools/export.hpp>

#include "export_selection.hpp"

namespace chokepoint::tools {
namespace {

constexpr std::pair<ExportFormat, std::string_view> kFormats[] = {
    {ExportFormat::Nftables, "nftables"},
    {ExportFormat::AwsNetworkFirewall, "aws-network-firewall"},
    {ExportFormat::Suricata, "suricata"},
    {ExportFormat::Squid, "squid"},
    {ExportFormat::Domains, "domains"},
};

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  for (const auto& [format, text] : kFormats) {
    if (text == name) return format;
  }
  return std::nullopt;
}

std::string_view to_string(ExportFormat format) {
  for (const auto& [f, text] : kFormats) {
    if (f == format) return text;
  }
  return "domains";
}

namespace detail {

std::string export_header(const Selection& s, ExportFormat format) {
  std::string scope = s.role >= 0 ? "role " + s.policy->roles[static_cast<std::size_t>(s.role)].name
                                  : std::string("every role");
  std::string source = s.policy->files.empty() ? std::string("?") : s.policy->files.front();
  for (char& c : source) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return "chokepoint export --format " + std::string(to_string(format)) + ": " + scope + ", " +
         std::to_string(s.rules.size()) + " rules, from " + source;
}

}  // namespace detail

ExportOutput export_policy(const policy::Policy& policy, const ExportOptions& options) {
  const detail::Selection selection = detail::select_rules(policy, options.role);
  switch (options.format) {
    case ExportFormat::Nftables:
      return detail::export_nftables(selection);
    case ExportFormat::AwsNetworkFirewall:
      return detail::export_aws_network_firewall(selection);
    case ExportFormat::Suricata:
      return detail::export_suricata(selection);
    case ExportFormat::Squid:
      return detail::export_squid(selection);
    case ExportFormat::Domains:
      break;
  }
  return detail::export_domains(selection);
}

}  // namespace chokepoint::tools
