#include <algorithm>
#include <set>
#include <utility>

#include <chokepoint/probe/targets.hpp>

namespace chokepoint::probe {
namespace {

using policy::Destination;
using policy::HostPattern;
using policy::PatternKind;

// Why a pattern names no one host, or "" when it names exactly one.
std::string pattern_not_concrete(const HostPattern& pattern) {
  switch (pattern.kind) {
    case PatternKind::Exact:
      return "";
    case PatternKind::Cidr:
      if (pattern.cidr.prefix_length() == pattern.cidr.network().bit_length()) return "";
      return "an address range names no one address to probe";
    case PatternKind::Regex:
      return "a regular expression names no one host to probe";
    case PatternKind::Glob:
      if (std::find(pattern.labels.begin(), pattern.labels.end(), "*") != pattern.labels.end())
        return "a wildcard label names no one host to probe";
      if (pattern.lead == policy::GlobLead::ZeroOrMore)
        return "a domain and every name below it: no one host to probe";
      return "a wildcard names no one host to probe";
  }
  return "not a host";
}

std::string pattern_text(const Destination& d) {
  return d.pattern.kind == PatternKind::Regex ? "re:" + d.pattern.text + d.path
                                              : d.pattern.text + d.path;
}

std::string range_text(const policy::PortRange& range) {
  std::string out = std::to_string(range.first);
  if (range.last != range.first) out += "-" + std::to_string(range.last);
  return out;
}

class Collector {
 public:
  Collector(const policy::Snapshot& snapshot, const policy::ClientIdentity& client)
      : snapshot_(snapshot), client_(client) {}

  void add_rule(const policy::Rule& rule) {
    if (rule.action == policy::Action::Deny || (rule.roles & client_.roles) == 0) return;
    for (const Destination& d : rule.destinations) {
      if ((d.versions & client_.versions) == 0) continue;
      const std::string why = pattern_not_concrete(d.pattern);
      for (const policy::PortRange& range : rule.ports) {
        const int count = range.last - range.first + 1;
        if (!why.empty()) {
          not_probed(rule, d, range, why);
        } else if (count > kMaxPortsPerRange) {
          not_probed(rule, d, range, "a port range names no one port to probe");
        } else {
          for (int port = range.first; port <= range.last; ++port)
            concrete(d, static_cast<std::uint16_t>(port));
        }
      }
    }
  }

  std::vector<Target> take() { return std::move(out_); }

 private:
  void concrete(const Destination& d, std::uint16_t port) {
    Host host;
    if (normalize_host(d.pattern.kind == PatternKind::Cidr ? d.pattern.cidr.network().to_string()
                                                           : d.pattern.text,
                       host) != HostError::None) {
      return;  // the loader only keeps names that normalise
    }
    if (!seen_.insert({host.name, port}).second) return;
    const bool tls = is_tls_port(port);
    // A tunnel shows no path; plain HTTP shows the one the destination is for.
    std::optional<std::string_view> path;
    if (!tls && !d.path.empty()) path = d.path;
    const policy::Decision decision = snapshot_.decide(host, port, client_, path);
    if (!decision.let_out() || !decision.match) return;
    Target t;
    t.host = std::move(host);
    t.port = port;
    t.ports = std::to_string(port);
    t.tls = tls;
    t.rule = decision.match.rule;
    t.versions = decision.match.destination->version_label;
    out_.push_back(std::move(t));
  }

  void not_probed(const policy::Rule& rule, const Destination& d, const policy::PortRange& range,
                  const std::string& why) {
    const std::string text = pattern_text(d);
    const std::string ports = range_text(range);
    if (!seen_patterns_.insert({text, ports}).second) return;
    Target t;
    t.host.name = text;
    t.port = range.first;
    t.ports = ports;
    t.tls = range.first == range.last && is_tls_port(range.first);
    t.rule = &rule;
    t.versions = d.version_label;
    t.not_probed = why;
    out_.push_back(std::move(t));
  }

  const policy::Snapshot& snapshot_;
  const policy::ClientIdentity& client_;
  std::set<std::pair<std::string, std::uint16_t>> seen_;
  std::set<std::pair<std::string, std::string>> seen_patterns_;
  std::vector<Target> out_;
};

}  // namespace

bool is_tls_port(std::uint16_t port) {
  switch (port) {
    case 443:
    case 4118:
    case 4119:
    case 4120:
    case 4122:
    case 5275:
      return true;
    default:
      return false;
  }
}

std::string what_breaks(const Target& target) {
  std::string out(target.service().empty() ? target.rule_id() : target.service());
  if (target.versions.empty() || !target.rule) return out;
  std::string who;
  for (const std::string& role : target.rule->role_names)
    who += (who.empty() ? "" : "/") + role + "s";
  return out + " (" + (who.empty() ? "versions" : who) + " " + target.versions + ")";
}

std::vector<Target> targets(const policy::Snapshot& snapshot,
                            const policy::ClientIdentity& client) {
  Collector collector(snapshot, client);
  for (const policy::Rule& rule : snapshot.policy().rules)
    collector.add_rule(rule);
  return collector.take();
}

}  // namespace chokepoint::probe
