#include <unordered_map>

#include <chokepoint/policy/snapshot.hpp>

#include "flat_index.hpp"

namespace chokepoint::policy {
namespace {

std::string address_key(const IpAddress& address) {
  const auto& bytes = address.bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()),
                     static_cast<std::size_t>(address.bit_length() / 8));
}

Reason reason_for(Action action) {
  switch (action) {
    case Action::Allow:
      return Reason::RuleAllows;
    case Action::Log:
      return Reason::RuleLogs;
    case Action::Deny:
      return Reason::RuleDenies;
  }
  return Reason::RuleDenies;
}

Reason reason_for(Miss miss) {
  switch (miss) {
    case Miss::NoDestination:
      return Reason::NoMatchingRule;
    case Miss::Role:
      return Reason::RoleNotAllowed;
    case Miss::Version:
      return Reason::VersionNotAllowed;
    case Miss::Port:
      return Reason::PortNotAllowed;
    case Miss::Path:
      return Reason::PathNotAllowed;
  }
  return Reason::NoMatchingRule;
}

}  // namespace

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::RuleAllows:
      return "rule_allows";
    case Reason::RuleLogs:
      return "rule_logs";
    case Reason::RuleDenies:
      return "rule_denies";
    case Reason::NoMatchingRule:
      return "no_matching_rule";
    case Reason::RoleNotAllowed:
      return "role_not_allowed";
    case Reason::VersionNotAllowed:
      return "version_not_allowed";
    case Reason::PortNotAllowed:
      return "port_not_allowed";
    case Reason::PathNotAllowed:
      return "path_not_allowed";
  }
  return "no_matching_rule";
}

// Source CIDR -> client rule, most specific prefix first; user -> client rule.
struct Snapshot::ClientTable {
  struct Level {
    int prefix;
    detail::FlatIndex index;
  };
  std::vector<Level> levels[2];
  std::unordered_map<std::string, std::uint32_t> users;

  explicit ClientTable(const Policy& policy) {
    std::map<int, std::pair<std::vector<std::string>, std::vector<std::uint32_t>>> by_prefix[2];
    for (std::uint32_t i = 0; i < policy.clients.size(); ++i) {
      const ClientRule& client = policy.clients[i];
      if (!client.cidr) {
        users.emplace(client.user, i);
        continue;
      }
      auto& [keys, values] =
          by_prefix[client.cidr->network().is_v4() ? 0 : 1][client.cidr->prefix_length()];
      keys.push_back(address_key(client.cidr->network()));
      values.push_back(i);
    }
    for (int family = 0; family < 2; ++family) {
      for (auto it = by_prefix[family].rbegin(); it != by_prefix[family].rend(); ++it) {
        Level level{it->first, {}};
        level.index.build(it->second.first, it->second.second);
        levels[family].push_back(std::move(level));
      }
    }
  }

  const std::uint32_t* find(const IpAddress& source) const {
    const IpAddress address = source.unmapped();
    for (const auto& level : levels[address.is_v4() ? 0 : 1]) {
      if (const auto* hit = level.index.find(address_key(mask_address(address, level.prefix))))
        return hit;
    }
    return nullptr;
  }
};

Snapshot::Snapshot(Policy policy)
    : policy_(std::move(policy)),
      matcher_(policy_),
      clients_(std::make_unique<const ClientTable>(policy_)) {}

Snapshot::~Snapshot() = default;

Result<std::shared_ptr<const Snapshot>> Snapshot::build(Policy policy) {
  std::shared_ptr<const Snapshot> snapshot(new Snapshot(std::move(policy)));
  if (!snapshot->matcher_.build_error().empty()) {
    const Policy& p = snapshot->policy();
    return Result<std::shared_ptr<const Snapshot>>::failure(
        {Diagnostic{p.files.empty() ? "" : p.files[0], 0, 0, Severity::Error,
                    snapshot->matcher_.build_error()}});
  }
  return snapshot;
}

ClientIdentity Snapshot::identity_for(int role, std::optional<Version> version) const {
  const Policy& p = policy_;
  ClientIdentity identity;
  identity.role = role;
  identity.roles = role >= 0 ? p.roles[static_cast<std::size_t>(role)].closure : kEveryRole;
  identity.version = version;
  if (version) {
    identity.versions = 0;
    for (std::size_t i = 0; i < p.version_groups.size(); ++i) {
      if (p.version_groups[i].contains(*version)) identity.versions |= GroupMask{1} << i;
    }
  }
  return identity;
}

std::string_view to_string(IdentitySource source) {
  switch (source) {
    case IdentitySource::Default:
      return "default";
    case IdentitySource::Cidr:
      return "cidr";
    case IdentitySource::Inventory:
      return "inventory";
    case IdentitySource::User:
      return "user";
  }
  return "default";
}

ClientIdentity Snapshot::identify(const IpAddress* source, std::string_view user,
                                  const KnownComputer* computer) const {
  const Policy& p = policy_;
  const auto found = [&](int role, std::optional<Version> version, IdentitySource how) {
    ClientIdentity identity = identity_for(role, version);
    identity.source = how;
    return identity;
  };
  if (!user.empty()) {
    const auto it = clients_->users.find(std::string(user));
    if (it != clients_->users.end()) {
      const ClientRule& client = p.clients[it->second];
      return found(client.role, client.version, IdentitySource::User);
    }
  }
  if (computer) {
    if (const int role = p.find_role(computer->role); role >= 0)
      return found(role, computer->version, IdentitySource::Inventory);
  }
  if (source) {
    if (const std::uint32_t* hit = clients_->find(*source)) {
      const ClientRule& client = p.clients[*hit];
      return found(client.role, client.version, IdentitySource::Cidr);
    }
  }
  return found(p.default_role, std::nullopt, IdentitySource::Default);
}

Decision Snapshot::decide(const Host& host, std::uint16_t port, const ClientIdentity& client,
                          std::optional<std::string_view> path) const {
  Query query;
  if (host.is_ip()) {
    query.address = &host.address;
  } else {
    query.name = host.name;
  }
  query.port = port;
  query.path = path;
  query.roles = client.roles;
  query.versions = client.versions;

  Decision decision;
  decision.match = matcher_.match(query);
  if (decision.match) {
    decision.action = decision.match.action;
    decision.reason = reason_for(decision.action);
  } else {
    decision.action = Action::Deny;
    if (decision.match.host_named) {
      const NearMiss near = matcher_.near_miss(query);
      decision.reason = reason_for(near.miss);
      decision.near = near.closest;
    }
  }
  if (decision.action == Action::Deny && policy_.mode == Mode::Audit) decision.enforced = false;
  return decision;
}

bool Snapshot::allows_address(const IpAddress& address, std::uint16_t port,
                              const ClientIdentity& client) const {
  Query query;
  query.address = &address;
  query.port = port;
  query.roles = client.roles;
  query.versions = client.versions;
  const Match match = matcher_.match(query);
  return match && match.action != Action::Deny;
}

std::string Snapshot::version_label(const ClientIdentity& client) const {
  return client.version ? client.version->to_string() : std::string();
}

std::string Snapshot::describe(const Decision& d, const Host& host, std::uint16_t port,
                               const ClientIdentity& client) const {
  const std::string target = format_authority(host, port);
  const std::string who = "role " + quote(role_label(client)) +
                          (client.version ? " version " + client.version->to_string() : "");
  std::string text;
  if (d.match) {
    const Destination& dest = *d.match.destination;
    text = target + " matches " + quote(dest.pattern.text + dest.path) + " (" +
           std::string(to_string(d.match.kind)) + ") in rule " + quote(d.match.rule->id);
    if (!dest.version_label.empty()) text += " for versions " + dest.version_label;
    text += ", which says " + std::string(to_string(d.action));
    if (!d.match.rule->service.empty()) text += " [" + d.match.rule->service + "]";
  } else if (d.near) {
    const Rule& rule = *d.near.rule;
    const Destination& dest = *d.near.destination;
    text = "rule " + quote(rule.id) + " names " + quote(dest.pattern.text + dest.path);
    switch (d.reason) {
      case Reason::RoleNotAllowed: {
        std::string roles;
        for (const auto& name : rule.role_names)
          roles += (roles.empty() ? "" : ", ") + name;
        text += " for roles " + roles + ", not for " + who;
        break;
      }
      case Reason::VersionNotAllowed:
        text += " for versions " + dest.version_label + ", not for " + who;
        break;
      case Reason::PortNotAllowed:
        text += " on ports " + to_string(rule.ports) + ", not on port " + std::to_string(port);
        break;
      default:
        text += " only under path " + quote(dest.path);
        break;
    }
  } else {
    text = "no rule lets " + who + " reach " + target;
  }
  if (!d.enforced) text += "; audit mode lets it out";
  return text;
}

}  // namespace chokepoint::policy
