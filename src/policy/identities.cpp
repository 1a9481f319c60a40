#include "identities.hpp"

#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/pattern.hpp>

namespace chokepoint::policy::detail {

void Identities::read_roles(const YAML::Node& node) {
  YamlReader& reader = state_.reader;
  Policy& policy = state_.policy;
  for (const auto& [key, value] : reader.map_entries(node, "roles")) {
    const std::string& name = key.Scalar();
    if (!is_identifier(name, false)) {
      reader.error(key, "bad role name " + quote(name) + ": use a-z, 0-9, '-' and '_'");
      continue;
    }
    if (name == "any") {
      reader.error(key, "'any' is built in (every role) and cannot be redefined");
      continue;
    }
    Role role;
    role.name = name;
    role.pos = reader.pos(key);
    std::vector<SourcePos> include_positions;
    if (!value.IsNull()) {
      for (const auto& [field, field_value] :
           reader.map_entries(value, "role " + quote(name), {"description", "includes"})) {
        if (field.Scalar() == "description") {
          role.description = reader.scalar(field_value, "description").value_or("");
        } else {
          for (const auto& [included, included_node] :
               reader.scalar_list(field_value, "includes")) {
            role.includes.push_back(included);
            include_positions.push_back(reader.pos(included_node));
          }
        }
      }
    }
    if (const int existing = policy.find_role(name); existing >= 0) {
      // Two catalogs a site includes together (on premises and SaaS) both
      // define agent and relay; the same definition twice is one role. A
      // different one would change what the first file's rules mean.
      const Role& first = policy.roles[static_cast<std::size_t>(existing)];
      if (first.description != role.description || first.includes != role.includes) {
        reader.error(key, "role " + quote(name) + " is already defined at " +
                              policy.where(first.pos) +
                              ", differently (a role may be defined again only exactly as before)");
      }
      continue;
    }
    include_pos_[name] = std::move(include_positions);
    policy.roles.push_back(std::move(role));
  }
}

void Identities::read_version_groups(const YAML::Node& node) {
  YamlReader& reader = state_.reader;
  Policy& policy = state_.policy;
  for (const auto& [key, value] : reader.map_entries(node, "version_groups")) {
    const std::string& name = key.Scalar();
    if (!is_identifier(name, true)) {
      reader.error(key, "bad version group name " + quote(name));
      continue;
    }
    if (const int existing = policy.find_group(name); existing >= 0) {
      reader.error(key,
                   "version group " + quote(name) + " is already defined at " +
                       policy.where(policy.version_groups[static_cast<std::size_t>(existing)].pos));
      continue;
    }
    VersionGroup group;
    group.name = name;
    group.pos = reader.pos(key);
    bool has_min = false;
    for (const auto& [field, field_value] :
         reader.map_entries(value, "version group " + quote(name), {"min", "below"})) {
      has_min |= field.Scalar() == "min";
      const auto text = reader.scalar(field_value, field.Scalar());
      if (!text) continue;
      const auto version = Version::parse(*text);
      if (!version) {
        reader.error(field_value,
                     "bad version " + quote(*text) + " (expected MAJOR[.MINOR[.PATCH]][-BUILD])");
        continue;
      }
      if (field.Scalar() == "min") {
        group.min = *version;
      } else {
        group.below = *version;
      }
    }
    if (!has_min && value.IsMap())
      reader.error(value, "version group " + quote(name) + " needs 'min'");
    if (has_min && group.below && !(group.min < *group.below)) {
      reader.error(value,
                   "version group " + quote(name) + " is empty: 'below' must be above 'min'");
    }
    policy.version_groups.push_back(std::move(group));
  }
  if (policy.version_groups.size() > kMaxVersionGroups) {
    reader.error(node, "more than " + std::to_string(kMaxVersionGroups) + " version groups");
  }
}

void Identities::read_default_role(const YAML::Node& node) {
  if (const auto text = state_.reader.scalar(node, "default_role")) {
    default_role_ = *text;
    default_role_pos_ = state_.reader.pos(node);
  }
}

void Identities::resolve_roles() {
  YamlReader& reader = state_.reader;
  Policy& policy = state_.policy;
  if (policy.roles.size() > kMaxRoles) {
    state_.diagnostics.push_back(Diagnostic{policy.files[0], 0, 0, Severity::Error,
                                            "more than " + std::to_string(kMaxRoles) + " roles"});
    return;
  }
  for (std::size_t i = 0; i < policy.roles.size(); ++i) {
    policy.roles[i].closure = RoleMask{1} << i;
  }
  // Check every include, then close transitively (a role count is small).
  for (auto& role : policy.roles) {
    const auto& positions = include_pos_[role.name];
    for (std::size_t j = 0; j < role.includes.size(); ++j) {
      const int target = policy.find_role(role.includes[j]);
      if (target < 0) {
        reader.error(positions[j], "role " + quote(role.name) + " includes unknown role " +
                                       quote(role.includes[j]));
      } else if (policy.roles[static_cast<std::size_t>(target)].name == role.name) {
        reader.error(positions[j], "role " + quote(role.name) + " includes itself");
      }
    }
  }
  for (std::size_t round = 0; round < policy.roles.size(); ++round) {
    for (auto& role : policy.roles) {
      for (const auto& included : role.includes) {
        const int target = policy.find_role(included);
        if (target >= 0) role.closure |= policy.roles[static_cast<std::size_t>(target)].closure;
      }
    }
  }
  if (!default_role_.empty() && default_role_ != "any") {
    policy.default_role = policy.find_role(default_role_);
    if (policy.default_role < 0) {
      reader.error(default_role_pos_, "unknown role " + quote(default_role_) + state_.roles_hint());
    }
  }
}

void Identities::read_client(const YAML::Node& node) {
  YamlReader& reader = state_.reader;
  std::vector<std::pair<std::string, YAML::Node>> cidrs;
  std::optional<std::string> user;
  std::optional<int> role;
  std::optional<Version> version;
  for (const auto& [key, value] :
       reader.map_entries(node, "a client", {"cidr", "user", "role", "version"})) {
    const std::string& k = key.Scalar();
    if (k == "cidr") {
      cidrs = reader.scalar_list(value, "cidr");
      if (cidrs.empty()) reader.error(value, "cidr must name at least one block");
    } else if (k == "user") {
      user = reader.scalar(value, "user");
      if (user && (user->empty() || user->find(':') != std::string::npos)) {
        reader.error(value, "a user name is non-empty and has no ':'");
      }
    } else if (k == "role") {
      if (const auto name = reader.scalar(value, "role")) {
        if (const int index = state_.role_index(*name, value); index != kUnknownRole) role = index;
      }
    } else if (const auto text = reader.scalar(value, "version")) {
      version = Version::parse(*text);
      if (!version)
        reader.error(value,
                     "bad version " + quote(*text) + " (expected MAJOR[.MINOR[.PATCH]][-BUILD])");
    }
  }
  if (!node.IsMap()) return;
  if (cidrs.empty() == !user.has_value()) {
    reader.error(node, "a client names exactly one of 'cidr' or 'user'");
    return;
  }
  if (!node["role"]) reader.error(node, "a client needs a 'role'");
  if (!role) return;
  ClientRule client;
  client.role = *role;
  client.version = version;
  client.pos = reader.pos(node);
  if (user) {
    client.user = *user;
    state_.policy.clients.push_back(client);
    return;
  }
  for (const auto& [text, item] : cidrs) {
    std::string error;
    const auto cidr = Cidr::parse(text, &error);
    if (!cidr) {
      reader.error(item, "bad client cidr " + quote(text) + ": " + error);
      continue;
    }
    client.cidr = *cidr;
    client.pos = reader.pos(item);
    state_.policy.clients.push_back(client);
  }
}

void Identities::check_clients() {
  std::map<std::string, SourcePos> seen;
  for (const auto& client : state_.policy.clients) {
    const std::string key =
        client.cidr ? "cidr " + client.cidr->to_string() : "user " + client.user;
    const auto [it, inserted] = seen.emplace(key, client.pos);
    if (!inserted) {
      state_.reader.error(
          client.pos, "client " + key + " is already mapped at " + state_.policy.where(it->second));
    }
  }
}

}  // namespace chokepoint::policy::detail

namespace chokepoint::policy::detail {
namespace {

// `path` as written in `file`: absolute, or relative to that file's folder.
std::string beside(const std::string& file, const std::string& path) {
  if (path.empty() || path.front() == '/' || file.rfind("builtin:", 0) == 0) return path;
  const auto slash = file.rfind('/');
  return slash == std::string::npos ? path : file.substr(0, slash + 1) + path;
}

// "https://HOST[:PORT]/PATH", the API base; the reason it is not, or "".
std::string check_api_url(std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0)
    return "inventory url must begin with https:// (the key never travels unencrypted)";
  const std::string_view rest = std::string_view(url).substr(kScheme.size());
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.empty() || authority.find_first_of("@?#") != std::string_view::npos)
    return "inventory url needs a host: https://MANAGER:4119/api";
  if (slash == std::string_view::npos || rest.find_first_of("?#") != std::string_view::npos)
    return "inventory url needs the API's path and nothing after it: https://MANAGER:4119/api";
  Host host;
  std::uint16_t port = 0;
  if (const HostError error = parse_authority(authority, host, port, 443); error != HostError::None)
    return "inventory url: " + std::string(to_string(error)) + " in '" + std::string(authority) +
           "'";
  while (url.size() > kScheme.size() + slash + 1 && url.back() == '/')
    url.pop_back();
  return {};
}

}  // namespace

void Identities::read_inventory(const YAML::Node& node) {
  YamlReader& reader = state_.reader;
  InventorySource source;
  source.pos = reader.pos(node);
  const std::string& file = state_.policy.files[static_cast<std::size_t>(reader.file())];
  bool has_url = false;
  bool has_key = false;
  for (const auto& [key, value] :
       reader.map_entries(node, "inventory",
                          {"url", "auth", "key_file", "ca_file", "refresh", "stale_for", "required",
                           "relay_host_names"})) {
    const std::string& k = key.Scalar();
    if (k == "url") {
      if (auto text = reader.scalar(value, "url")) {
        source.url = *text;
        if (const std::string problem = check_api_url(source.url); !problem.empty()) {
          reader.error(value, problem);
        } else {
          has_url = true;
        }
      }
    } else if (k == "auth") {
      const auto text = reader.scalar(value, "auth");
      if (text == "api-secret-key") {
        source.auth = InventorySource::Auth::ApiSecretKey;
      } else if (text == "apikey") {
        source.auth = InventorySource::Auth::ApiKey;
      } else if (text) {
        reader.error(value,
                     "auth must be api-secret-key (on premises) or apikey (SaaS: "
                     "Authorization: ApiKey), not " +
                         quote(*text));
      }
    } else if (k == "key_file" || k == "ca_file") {
      if (auto text = reader.scalar(value, k)) {
        (k == "key_file" ? source.key_file : source.ca_file) = beside(file, *text);
        if (k == "key_file") has_key = !text->empty();
      }
    } else if (k == "refresh" || k == "stale_for") {
      if (auto d = reader.duration(value, k)) {
        if (k == "refresh" && *d < std::chrono::seconds(1)) {
          reader.error(value, "refresh must be 1s or more (the manager counts every request)");
        } else {
          (k == "refresh" ? source.refresh : source.stale_for) = *d;
        }
      }
    } else if (k == "required") {
      source.required = reader.boolean(value, "required").value_or(false);
    } else {
      for (const auto& [text, item] : reader.scalar_list(value, "relay_host_names")) {
        std::string error;
        auto pattern = parse_host_pattern(text, error);
        if (!pattern) {
          reader.error(item, error);
        } else if (pattern->kind != PatternKind::Exact && pattern->kind != PatternKind::Glob) {
          reader.error(item,
                       "relay_host_names takes names and globs (relay-*.example.com), "
                       "not " +
                           quote(text));
        } else {
          source.relay_host_names.push_back(std::move(*pattern));
        }
      }
    }
  }
  if (!has_url) reader.error(source.pos, "inventory needs url: https://MANAGER:4119/api");
  if (!has_key) reader.error(source.pos, "inventory needs key_file: the API key, in a file");
  if (source.stale_for < source.refresh)
    reader.warning(source.pos,
                   "inventory stale_for is shorter than refresh: the inventory "
                   "stops applying between two good refreshes");
  // A later file's section replaces an earlier one's, as scalars do.
  state_.policy.inventory = std::move(source);
}

}  // namespace chokepoint::policy::detail
