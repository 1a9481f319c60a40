#include <algorithm>

#include <chokepoint/inventory/inventory.hpp>

namespace chokepoint::inventory {
namespace {

std::vector<std::string_view> labels_of(std::string_view name) {
  std::vector<std::string_view> labels;
  while (!name.empty()) {
    const auto dot = name.find('.');
    labels.push_back(name.substr(0, dot));
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return labels;
}

// A name against an exact or glob pattern (pattern.hpp's semantics).
bool name_matches(const policy::HostPattern& pattern, std::string_view name) {
  if (pattern.kind == policy::PatternKind::Exact) return name == pattern.text;
  if (pattern.kind != policy::PatternKind::Glob) return false;
  const auto labels = labels_of(name);
  const std::size_t fixed = pattern.labels.size();
  if (labels.size() < fixed) return false;
  const std::size_t extra = labels.size() - fixed;
  if ((pattern.lead == policy::GlobLead::None && extra != 0) ||
      (pattern.lead == policy::GlobLead::OneOrMore && extra == 0))
    return false;
  for (std::size_t i = 0; i < fixed; ++i) {
    const std::string& want = pattern.labels[i];
    if (want != "*" && want != labels[extra + i]) return false;
  }
  return true;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Addresses in a stable order for listings: IPv4 first, then by bytes.
struct AddressLess {
  bool operator()(const IpAddress& a, const IpAddress& b) const {
    if (a.is_v4() != b.is_v4()) return a.is_v4();
    return a.bytes() < b.bytes();
  }
};

bool is_relay(const Computer& computer, const std::vector<policy::HostPattern>& relay_names) {
  if (computer.relay_state.value_or(false)) return true;
  if (relay_names.empty()) return false;
  for (const std::string* name : {&computer.host_name, &computer.display_name}) {
    if (name->empty()) continue;
    const std::string lower = lowercase(*name);
    for (const auto& pattern : relay_names) {
      if (name_matches(pattern, lower)) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(Role role) {
  return role == Role::Relay ? "relay" : "agent";
}

std::size_t Inventory::Hash::operator()(const IpAddress& a) const {
  std::string_view bytes(reinterpret_cast<const char*>(a.bytes().data()),
                         static_cast<std::size_t>(a.bit_length() / 8));
  return std::hash<std::string_view>{}(bytes) ^ (a.is_v4() ? 0x9e3779b9u : 0u);
}

std::shared_ptr<const Inventory> Inventory::build(
    std::span<const Computer> computers, const std::vector<policy::HostPattern>& relay_names) {
  auto inventory = std::make_shared<Inventory>();
  inventory->computers_ = computers.size();
  // Every claim first: an address is the computer's only if nobody else
  // claims it. Sorted by address, a run of more than one claim is ambiguous.
  std::vector<std::pair<IpAddress, std::size_t>> claims;
  claims.reserve(computers.size());
  inventory->clients_.reserve(computers.size());
  for (const Computer& computer : computers) {
    if (!computer.has_agent()) continue;
    Client client;
    client.id = computer.id;
    client.name = computer.name();
    client.role = is_relay(computer, relay_names) ? Role::Relay : Role::Agent;
    client.version_text = computer.agent_version;
    client.version = Version::parse(computer.agent_version);
    if (client.role == Role::Relay) ++inventory->relays_;
    const std::size_t index = inventory->clients_.size();
    inventory->clients_.push_back(std::move(client));
    for (const IpAddress& address : computer.addresses)
      claims.emplace_back(address, index);
  }
  // Stable: a run keeps its computers in the manager's order.
  std::stable_sort(claims.begin(), claims.end(),
                   [](const auto& a, const auto& b) { return AddressLess{}(a.first, b.first); });
  inventory->by_address_.reserve(claims.size());
  for (auto run = claims.begin(); run != claims.end();) {
    auto end =
        std::find_if(run, claims.end(), [&](const auto& c) { return c.first != run->first; });
    if (end - run == 1) {
      inventory->by_address_.emplace(run->first, run->second);
    } else {
      Ambiguous ambiguous{run->first, {}};
      for (auto it = run; it != end; ++it)
        ambiguous.computer_ids.push_back(inventory->clients_[it->second].id);
      inventory->ambiguous_.push_back(std::move(ambiguous));
    }
    run = end;
  }
  return inventory;
}

const Client* Inventory::find(const IpAddress& address) const {
  const auto it = by_address_.find(address.unmapped());
  return it == by_address_.end() ? nullptr : &clients_[it->second];
}

std::vector<std::pair<IpAddress, const Client*>> Inventory::entries() const {
  std::vector<std::pair<IpAddress, const Client*>> out;
  out.reserve(by_address_.size());
  for (const auto& [address, index] : by_address_)
    out.emplace_back(address, &clients_[index]);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return AddressLess{}(a.first, b.first); });
  return out;
}

}  // namespace chokepoint::inventory
