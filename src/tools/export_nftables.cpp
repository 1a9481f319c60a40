#include <algorithm>
#include <map>

#include "export_selection.hpp"

namespace chokepoint::tools::detail {
namespace {

// Interval sets refuse overlapping elements: merge the ranges first.
policy::PortSet merged(policy::PortSet ports) {
  std::sort(ports.begin(), ports.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  policy::PortSet out;
  for (const auto& range : ports) {
    if (!out.empty() && range.first <= out.back().last + 1) {
      out.back().last = std::max(out.back().last, range.last);
    } else {
      out.push_back(range);
    }
  }
  return out;
}

// The same for blocks: one contained in another is dropped.
std::vector<Cidr> merged(std::vector<Cidr> blocks) {
  std::sort(blocks.begin(), blocks.end(),
            [](const Cidr& a, const Cidr& b) { return a.prefix_length() < b.prefix_length(); });
  std::vector<Cidr> out;
  for (const auto& block : blocks) {
    const bool covered = std::any_of(out.begin(), out.end(), [&](const Cidr& kept) {
      return kept.network().is_v4() == block.network().is_v4() && kept.contains(block.network());
    });
    if (!covered) out.push_back(block);
  }
  return out;
}

struct Blocks {
  std::vector<Cidr> v4, v6;
  void add(const Cidr& block) { (block.network().is_v4() ? v4 : v6).push_back(block); }
};

void write_port_set(std::string& out, const std::string& name, const policy::PortSet& ports,
                    std::string_view comment) {
  out += "\t# " + std::string(comment) + "\n";
  out += "\tset " + name + " {\n\t\ttype inet_service\n\t\tflags interval\n";
  if (!ports.empty()) out += "\t\telements = { " + ports_text(merged(ports), ", ", "-") + " }\n";
  out += "\t}\n";
}

void write_address_set(std::string& out, const std::string& name, bool v4,
                       const std::vector<Cidr>& blocks) {
  out += "\tset " + name + " {\n\t\ttype " + (v4 ? "ipv4_addr" : "ipv6_addr") +
         "\n\t\tflags interval\n";
  std::string elements;
  for (const auto& block : merged(blocks))
    elements += (elements.empty() ? "" : ", ") + block.to_string();
  if (!elements.empty()) out += "\t\telements = { " + elements + " }\n";
  out += "\t}\n";
}

std::string dport(const policy::PortSet& ports) {
  const auto m = merged(ports);
  if (m.size() == 1 && m.front().first == m.front().last) return std::to_string(m.front().first);
  return "{ " + ports_text(m, ", ", "-") + " }";
}

}  // namespace

ExportOutput export_nftables(const Selection& s) {
  const policy::Policy& p = *s.policy;
  // The port tables, per component, direction and protocol.
  struct PortTableSet {
    std::string name;
    std::string component;
    bool outbound;
    std::string protocol;
    policy::PortSet ports;
  };
  std::vector<PortTableSet> port_sets;
  std::map<std::string, policy::PortSet> tcp_with_udp;  // component -> ports listed for both
  for (const auto& entry : p.port_table) {
    const int component = p.find_role(entry.component);
    if (component < 0 || (s.roles & (policy::RoleMask{1} << component)) == 0) continue;
    const bool outbound = entry.direction == policy::Direction::Outbound;
    for (const auto& protocol : entry.protocols) {
      const std::string name = "ports_" + identifier(entry.component) + "_" +
                               (outbound ? "outbound_" : "inbound_") + protocol;
      auto it = std::find_if(port_sets.begin(), port_sets.end(),
                             [&](const PortTableSet& set) { return set.name == name; });
      if (it == port_sets.end()) {
        port_sets.push_back({name, entry.component, outbound, protocol, {}});
        it = std::prev(port_sets.end());
      }
      it->ports.insert(it->ports.end(), entry.ports.begin(), entry.ports.end());
    }
    const bool both =
        std::find(entry.protocols.begin(), entry.protocols.end(), "udp") != entry.protocols.end() &&
        std::find(entry.protocols.begin(), entry.protocols.end(), "tcp") != entry.protocols.end();
    if (outbound && both) {
      auto& ports = tcp_with_udp[entry.component];
      ports.insert(ports.end(), entry.ports.begin(), entry.ports.end());
    }
  }

  // Clients by role (the policy's `clients` by CIDR), and each rule's CIDR destinations.
  std::map<int, Blocks> clients;  // role index (kAnyRole for "any") -> blocks
  std::size_t users = 0;
  for (const auto& client : p.clients) {
    if (!client.cidr) {
      ++users;
      continue;
    }
    if (s.role >= 0 && client.role != s.role) continue;
    clients[client.role].add(*client.cidr);
  }
  const auto client_set = [&](int role, bool v4) {
    return "clients_" + (role < 0 ? std::string("any") : identifier(p.role_name(role))) +
           (v4 ? "_v4" : "_v6");
  };
  std::vector<std::pair<const SelectedRule*, Blocks>> destinations;
  std::size_t named = 0;
  for (const auto& selected : s.rules) {
    Blocks blocks;
    for (const auto* d : selected.destinations) {
      if (d->pattern.kind == policy::PatternKind::Cidr) {
        blocks.add(d->pattern.cidr);
      } else {
        ++named;
      }
    }
    if (!blocks.v4.empty() || !blocks.v6.empty()) destinations.emplace_back(&selected, blocks);
  }

  ExportOutput out;
  std::vector<std::string> notes = {
      named == 0 ? ""
                 : "host names (" + std::to_string(named) +
                       " destinations): nftables matches addresses, not names; let 80 and 443 "
                       "out through chokepoint (the chokepoint_proxy sets below)",
      note_list("re: rules", s.regexes, "names again; through chokepoint"),
      note_paths(s, "only their hosts' addresses could be, and these are names"),
      note_versions(s),
      users == 0 ? ""
                 : "clients by proxy user (" + std::to_string(users) +
                       "): a packet filter sees addresses only",
      "clients no `clients` entry names (default role '" + p.role_name(p.default_role) +
          "'): not filtered by this chain",
      note_deny(s)};
  out.text = comment_block("#", export_header(s, ExportFormat::Nftables), notes);
  out.text +=
      "# Load with `nft -f FILE`. The forward chain lets each role's clients reach the CIDR\n"
      "# destinations of that role's rules on their ports, the UDP services of the port tables\n"
      "# (DNS, NTP, syslog) and the proxy; everything else from those clients is dropped.\n"
      "# Fill in chokepoint_proxy_v4/v6 with the proxy's address.\n";
  out.text += "table inet chokepoint {\n";
  for (const auto& set : port_sets) {
    write_port_set(out.text, set.name, set.ports,
                   "port table: " + set.component + ", " +
                       (set.outbound ? "outbound " : "inbound ") + set.protocol);
  }
  out.text += "\t# chokepoint itself: the address clients use as their proxy\n";
  write_address_set(out.text, "chokepoint_proxy_v4", true, {});
  write_address_set(out.text, "chokepoint_proxy_v6", false, {});
  write_port_set(out.text, "chokepoint_proxy_ports", {policy::PortRange{3128, 3128}},
                 "its explicit listeners");
  for (const auto& [role, blocks] : clients) {
    out.text += "\t# clients of role " + p.role_name(role) + "\n";
    if (!blocks.v4.empty()) write_address_set(out.text, client_set(role, true), true, blocks.v4);
    if (!blocks.v6.empty()) write_address_set(out.text, client_set(role, false), false, blocks.v6);
  }
  for (const auto& [selected, blocks] : destinations) {
    const std::string base = "dest_" + identifier(selected->rule->id);
    out.text += "\t# rule " + selected->rule->id + ", ports " +
                ports_text(selected->rule->ports, ",", "-") + "\n";
    if (!blocks.v4.empty()) write_address_set(out.text, base + "_v4", true, blocks.v4);
    if (!blocks.v6.empty()) write_address_set(out.text, base + "_v6", false, blocks.v6);
  }

  out.text +=
      "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
      "\t\tct state established,related accept\n";
  for (const auto& [role, blocks] : clients) {
    const policy::RoleMask closure =
        role < 0 ? policy::kEveryRole : p.roles[static_cast<std::size_t>(role)].closure;
    for (const bool v4 : {true, false}) {
      if ((v4 ? blocks.v4 : blocks.v6).empty()) continue;
      const std::string saddr =
          std::string(v4 ? "ip saddr @" : "ip6 saddr @") + client_set(role, v4);
      const std::string daddr = v4 ? " ip daddr @" : " ip6 daddr @";
      for (const auto& [selected, dests] : destinations) {
        if ((selected->rule->roles & closure) == 0 || (v4 ? dests.v4 : dests.v6).empty()) continue;
        out.text += "\t\t" + saddr + daddr + "dest_" + identifier(selected->rule->id) +
                    (v4 ? "_v4" : "_v6") + " tcp dport " + dport(selected->rule->ports) +
                    " accept\n";
      }
      for (const auto& set : port_sets) {
        const int component = p.find_role(set.component);
        if (!set.outbound || set.protocol != "udp" ||
            (closure & (policy::RoleMask{1} << component)) == 0)
          continue;
        out.text += "\t\t" + saddr + " udp dport @" + set.name + " accept\n";
        if (const auto it = tcp_with_udp.find(set.component); it != tcp_with_udp.end())
          out.text += "\t\t" + saddr + " tcp dport " + dport(it->second) + " accept\n";
      }
      out.text += "\t\t" + saddr + daddr + (v4 ? "chokepoint_proxy_v4" : "chokepoint_proxy_v6") +
                  " tcp dport @chokepoint_proxy_ports accept\n";
      out.text += "\t\t" + saddr + " counter drop\n";
    }
  }
  out.text += "\t}\n}\n";
  return out;
}

}  // namespace chokepoint::tools::detail
