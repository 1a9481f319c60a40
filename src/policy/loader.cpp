#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unordered_map>

#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/loader.hpp>
#include <chokepoint/policy/pattern.hpp>

#include "settings_reader.hpp"
#include "yaml_reader.hpp"

namespace chokepoint::policy {
namespace detail {
extern const std::string_view kBuiltinCatalogText;  // generated from policy/deep-security.yaml
}

std::string_view builtin_catalog_text() {
  return detail::kBuiltinCatalogText;
}

namespace {

constexpr int kMaxIncludeDepth = 16;
constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;

bool is_identifier(std::string_view name, bool allow_dot) {
  if (name.empty() || name.size() > 64) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    (allow_dot && (c == '.' || c == '+'));
    if (!ok) return false;
  }
  return true;
}

// "host/path" -> host and "/path". An IP literal followed by "/digits" is a
// CIDR block, and what follows it is the path.
std::pair<std::string_view, std::string_view> split_path(std::string_view text) {
  if (text.substr(0, 3) == "re:") return {text, {}};
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return {text, {}};
  if (IpAddress::parse(text.substr(0, slash))) {
    auto end = slash + 1;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9')
      ++end;
    if (end > slash + 1 && (end == text.size() || text[end] == '/')) {
      return {text.substr(0, end), text.substr(end)};
    }
  }
  return {text.substr(0, slash), text.substr(slash)};
}

bool valid_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') return false;
  }
  return true;
}

struct Document {
  int file;
  YAML::Node root;
};

class Loader {
 public:
  Result<Config> load_root(std::string_view text, const std::string& name, const std::string& id) {
    read_document(text, name, id, SourcePos{}, 0);
    if (!has_errors(diagnostics_)) {
      for (const auto& doc : documents_)
        read_definitions(doc);
      resolve_roles();
      for (const auto& doc : documents_)
        read_uses(doc);
      check_clients();
    }
    if (has_errors(diagnostics_)) return Result<Config>::failure(std::move(diagnostics_));
    Config config;
    config.policy = std::move(policy_);
    config.settings = std::move(settings_);
    return Result<Config>(std::move(config), std::move(diagnostics_));
  }

  Result<Config> load_root_file(const std::string& path) {
    std::string text;
    if (!read_file(path, text, SourcePos{}))
      return Result<Config>::failure(std::move(diagnostics_));
    return load_root(text, path, canonical(path));
  }

 private:
  static std::string canonical(const std::string& path) {
    std::error_code ec;
    const auto c = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : c.string();
  }

  void file_error(const std::string& file, const SourcePos& at, std::string message) {
    if (at.file >= 0) {
      reader_.error(at, file + ": " + message);
    } else {
      diagnostics_.push_back(Diagnostic{file, 0, 0, Severity::Error, std::move(message)});
    }
  }

  bool read_file(const std::string& path, std::string& text, const SourcePos& included_at) {
    // Whoever may write the policy decides what leaves the network: a file
    // other users can write is refused, as sshd refuses such key files.
    struct stat status {};
    if (::stat(path.c_str(), &status) == 0 && (status.st_mode & S_IWOTH) != 0) {
      file_error(path, included_at, "writable by other users; refusing it (chmod o-w)");
      return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      file_error(path, included_at, std::string("cannot read: ") + std::strerror(errno));
      return false;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
    return true;
  }

  void read_document(std::string_view text, const std::string& name, const std::string& id,
                     const SourcePos& included_at, int depth) {
    if (std::find(include_stack_.begin(), include_stack_.end(), id) != include_stack_.end()) {
      reader_.error(included_at, "include cycle: " + quote(name) + " includes itself");
      return;
    }
    if (!loaded_.insert(id).second) return;  // a diamond: the file is already in

    const int file = static_cast<int>(policy_.files.size());
    policy_.files.push_back(name);
    reader_.set_file(file);

    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      reader_.error(SourcePos{file, e.mark.line + 1, e.mark.column + 1}, e.msg);
      return;
    }
    if (!root.IsMap()) {
      reader_.error(SourcePos{file, 1, 1}, "a configuration file must be a map with 'version: 1'");
      return;
    }
    if (!root["version"]) {
      reader_.error(SourcePos{file, 1, 1}, "missing 'version: 1'");
    } else if (const auto v = reader_.scalar(root["version"], "version"); v && *v != "1") {
      reader_.error(root["version"],
                    "unsupported version " + quote(*v) + "; this build reads version 1");
    }

    if (const YAML::Node includes = root["include"]) {
      include_stack_.push_back(id);
      const auto base = std::filesystem::path(name).parent_path();
      for (const auto& [entry, node] : reader_.scalar_list(includes, "include")) {
        const SourcePos at = reader_.pos(node);
        if (depth + 1 > kMaxIncludeDepth) {
          reader_.error(at, "includes nested deeper than " + std::to_string(kMaxIncludeDepth));
          continue;
        }
        if (entry == kBuiltinCatalogName) {
          read_document(builtin_catalog_text(), entry, entry, at, depth + 1);
        } else {
          const auto path = std::filesystem::path(entry).is_absolute()
                                ? std::filesystem::path(entry)
                                : base / entry;
          std::string included;
          if (read_file(path.string(), included, at)) {
            read_document(included, path.string(), canonical(path.string()), at, depth + 1);
          }
        }
        reader_.set_file(file);
      }
      include_stack_.pop_back();
    }
    documents_.push_back(Document{file, root});
  }

  // Phase 1: what other sections refer to.
  void read_definitions(const Document& doc) {
    reader_.set_file(doc.file);
    for (const auto& [key, value] : reader_.map_entries(
             doc.root, "the top level",
             {"version", "include", "mode", "default_role", "roles", "version_groups", "variables",
              "clients", "rules", "ports", "settings", "original_destination", "tls", "pac"})) {
      const std::string& k = key.Scalar();
      if (k == "mode") {
        if (const auto text = reader_.scalar(value, "mode")) {
          if (*text == "enforce") {
            policy_.mode = Mode::Enforce;
          } else if (*text == "audit") {
            policy_.mode = Mode::Audit;
          } else {
            reader_.error(value, "mode must be 'enforce' or 'audit', not " + quote(*text));
          }
        }
      } else if (k == "default_role") {
        if (const auto text = reader_.scalar(value, "default_role")) {
          default_role_ = *text;
          default_role_pos_ = reader_.pos(value);
        }
      } else if (k == "roles") {
        read_roles(value);
      } else if (k == "version_groups") {
        read_version_groups(value);
      } else if (k == "variables") {
        read_variables(value);
      } else if (k == "original_destination") {
        const auto text = reader_.scalar(value, "original_destination");
        if (text == "ignore") {
          policy_.original_destination = OriginalDestinationCheck::Ignore;
        } else if (text == "require-match") {
          policy_.original_destination = OriginalDestinationCheck::RequireMatch;
        } else if (text) {
          reader_.error(
              value, "original_destination must be ignore or require-match, not " + quote(*text));
        }
      } else if (k == "tls") {
        read_tls(value);
      } else if (k == "pac") {
        read_pac(value);
      } else if (k == "settings") {
        settings_.override_with(detail::read_settings(reader_, value));
      }
    }
  }

  void read_tls(const YAML::Node& node) {
    for (const auto& [key, value] :
         reader_.map_entries(node, "tls", {"ech", "check_tunnel_sni", "deny_alert"})) {
      const std::string& k = key.Scalar();
      if (k == "ech") {
        const auto text = reader_.scalar(value, "ech");
        if (text == "allow") {
          policy_.ech = EchPolicy::Allow;
        } else if (text == "deny") {
          policy_.ech = EchPolicy::Deny;
        } else if (text) {
          reader_.error(value, "tls.ech must be allow or deny, not " + quote(*text));
        }
      } else if (k == "check_tunnel_sni") {
        if (const auto on = reader_.boolean(value, "check_tunnel_sni"))
          policy_.check_tunnel_sni = *on;
      } else if (const auto on = reader_.boolean(value, "deny_alert")) {
        policy_.deny_alert = *on;
      }
    }
  }

  void read_pac(const YAML::Node& node) {
    for (const auto& [key, value] : reader_.map_entries(node, "pac", {"fallback", "proxy"})) {
      const auto text = reader_.scalar(value, "pac." + key.Scalar());
      if (!text) continue;
      if (key.Scalar() == "fallback") {
        if (*text == "DIRECT") {
          policy_.pac.fallback = PacFallback::Direct;
        } else if (*text == "PROXY") {
          policy_.pac.fallback = PacFallback::Proxy;
        } else {
          reader_.error(value, "pac.fallback must be DIRECT or PROXY, not " + quote(*text));
        }
        continue;
      }
      // The address lands in a script every browser runs: only a normalised
      // HOST:PORT gets there.
      Host host;
      std::uint16_t port = 0;
      if (const auto error = parse_authority(*text, host, port); error != HostError::None) {
        reader_.error(value, "pac.proxy must be HOST:PORT, not " + quote(*text) + " (" +
                                 std::string(to_string(error)) + ")");
        continue;
      }
      policy_.pac.proxy = format_authority(host, port);
      policy_.pac.pos = reader_.pos(value);
    }
  }

  void read_roles(const YAML::Node& node) {
    for (const auto& [key, value] : reader_.map_entries(node, "roles")) {
      const std::string& name = key.Scalar();
      if (!is_identifier(name, false)) {
        reader_.error(key, "bad role name " + quote(name) + ": use a-z, 0-9, '-' and '_'");
        continue;
      }
      if (name == "any") {
        reader_.error(key, "'any' is built in (every role) and cannot be redefined");
        continue;
      }
      if (const int existing = policy_.find_role(name); existing >= 0) {
        reader_.error(key,
                      "role " + quote(name) + " is already defined at " +
                          policy_.where(policy_.roles[static_cast<std::size_t>(existing)].pos));
        continue;
      }
      Role role;
      role.name = name;
      role.pos = reader_.pos(key);
      if (!value.IsNull()) {
        for (const auto& [field, field_value] :
             reader_.map_entries(value, "role " + quote(name), {"description", "includes"})) {
          if (field.Scalar() == "description") {
            role.description = reader_.scalar(field_value, "description").value_or("");
          } else {
            for (const auto& [included, included_node] :
                 reader_.scalar_list(field_value, "includes")) {
              role.includes.push_back(included);
              include_pos_[name].push_back(reader_.pos(included_node));
            }
          }
        }
      }
      policy_.roles.push_back(std::move(role));
    }
  }

  void read_version_groups(const YAML::Node& node) {
    for (const auto& [key, value] : reader_.map_entries(node, "version_groups")) {
      const std::string& name = key.Scalar();
      if (!is_identifier(name, true)) {
        reader_.error(key, "bad version group name " + quote(name));
        continue;
      }
      if (const int existing = policy_.find_group(name); existing >= 0) {
        reader_.error(
            key, "version group " + quote(name) + " is already defined at " +
                     policy_.where(policy_.version_groups[static_cast<std::size_t>(existing)].pos));
        continue;
      }
      VersionGroup group;
      group.name = name;
      group.pos = reader_.pos(key);
      bool has_min = false;
      for (const auto& [field, field_value] :
           reader_.map_entries(value, "version group " + quote(name), {"min", "below"})) {
        has_min |= field.Scalar() == "min";
        const auto text = reader_.scalar(field_value, field.Scalar());
        if (!text) continue;
        const auto version = Version::parse(*text);
        if (!version) {
          reader_.error(field_value, "bad version " + quote(*text) +
                                         " (expected MAJOR[.MINOR[.PATCH]][-BUILD])");
          continue;
        }
        if (field.Scalar() == "min") {
          group.min = *version;
        } else {
          group.below = *version;
        }
      }
      if (!has_min && value.IsMap())
        reader_.error(value, "version group " + quote(name) + " needs 'min'");
      if (has_min && group.below && !(group.min < *group.below)) {
        reader_.error(value,
                      "version group " + quote(name) + " is empty: 'below' must be above 'min'");
      }
      policy_.version_groups.push_back(std::move(group));
    }
    if (policy_.version_groups.size() > kMaxVersionGroups) {
      reader_.error(node, "more than " + std::to_string(kMaxVersionGroups) + " version groups");
    }
  }

  void read_variables(const YAML::Node& node) {
    for (const auto& [key, value] : reader_.map_entries(node, "variables")) {
      const std::string& name = key.Scalar();
      if (!is_identifier(name, false)) {
        reader_.error(key, "bad variable name " + quote(name) + ": use a-z, 0-9, '-' and '_'");
        continue;
      }
      std::vector<VariableValue> values;
      for (const auto& [text, item] : reader_.scalar_list(value, "variable " + quote(name))) {
        values.push_back(VariableValue{text, reader_.pos(item)});
      }
      // A later file (the operator's, which includes the catalog) replaces the value.
      policy_.variables[name] = std::move(values);
    }
  }

  void resolve_roles() {
    if (policy_.roles.size() > kMaxRoles) {
      diagnostics_.push_back(Diagnostic{policy_.files[0], 0, 0, Severity::Error,
                                        "more than " + std::to_string(kMaxRoles) + " roles"});
      return;
    }
    for (std::size_t i = 0; i < policy_.roles.size(); ++i) {
      policy_.roles[i].closure = RoleMask{1} << i;
    }
    // Check every include, then close transitively (a role count is small).
    for (auto& role : policy_.roles) {
      const auto& positions = include_pos_[role.name];
      for (std::size_t j = 0; j < role.includes.size(); ++j) {
        const int target = policy_.find_role(role.includes[j]);
        if (target < 0) {
          reader_.error(positions[j], "role " + quote(role.name) + " includes unknown role " +
                                          quote(role.includes[j]));
        } else if (policy_.roles[static_cast<std::size_t>(target)].name == role.name) {
          reader_.error(positions[j], "role " + quote(role.name) + " includes itself");
        }
      }
    }
    for (std::size_t round = 0; round < policy_.roles.size(); ++round) {
      for (auto& role : policy_.roles) {
        for (const auto& included : role.includes) {
          const int target = policy_.find_role(included);
          if (target >= 0) role.closure |= policy_.roles[static_cast<std::size_t>(target)].closure;
        }
      }
    }
    if (!default_role_.empty() && default_role_ != "any") {
      policy_.default_role = policy_.find_role(default_role_);
      if (policy_.default_role < 0) {
        reader_.error(default_role_pos_, "unknown role " + quote(default_role_) + roles_hint());
      }
    }
  }

  std::string roles_hint() const {
    std::string hint = " (roles: any";
    for (const auto& role : policy_.roles)
      hint += ", " + role.name;
    return hint + ")";
  }

  // Phase 2: sections that refer to roles, groups and variables.
  void read_uses(const Document& doc) {
    reader_.set_file(doc.file);
    if (const YAML::Node clients = doc.root["clients"])
      read_list(clients, "clients", &Loader::read_client);
    if (const YAML::Node rules = doc.root["rules"]) read_list(rules, "rules", &Loader::read_rule);
    if (const YAML::Node ports = doc.root["ports"])
      read_list(ports, "ports", &Loader::read_port_entry);
  }

  void read_list(const YAML::Node& node, std::string_view what,
                 void (Loader::*read)(const YAML::Node&)) {
    if (node.IsNull()) return;
    if (!node.IsSequence()) {
      reader_.error(node, std::string(what) + " must be a list");
      return;
    }
    for (const auto& item : node)
      (this->*read)(item);
  }

  int role_index(const std::string& name, const YAML::Node& node) {
    if (name == "any") return kAnyRole;
    const int index = policy_.find_role(name);
    if (index < 0) {
      reader_.error(node, "unknown role " + quote(name) + roles_hint());
      return -2;
    }
    return index;
  }

  void read_client(const YAML::Node& node) {
    std::vector<std::pair<std::string, YAML::Node>> cidrs;
    std::optional<std::string> user;
    std::optional<int> role;
    std::optional<Version> version;
    for (const auto& [key, value] :
         reader_.map_entries(node, "a client", {"cidr", "user", "role", "version"})) {
      const std::string& k = key.Scalar();
      if (k == "cidr") {
        cidrs = reader_.scalar_list(value, "cidr");
        if (cidrs.empty()) reader_.error(value, "cidr must name at least one block");
      } else if (k == "user") {
        user = reader_.scalar(value, "user");
        if (user && (user->empty() || user->find(':') != std::string::npos)) {
          reader_.error(value, "a user name is non-empty and has no ':'");
        }
      } else if (k == "role") {
        if (const auto name = reader_.scalar(value, "role")) {
          if (const int index = role_index(*name, value); index != -2) role = index;
        }
      } else if (const auto text = reader_.scalar(value, "version")) {
        version = Version::parse(*text);
        if (!version)
          reader_.error(
              value, "bad version " + quote(*text) + " (expected MAJOR[.MINOR[.PATCH]][-BUILD])");
      }
    }
    if (!node.IsMap()) return;
    if (cidrs.empty() == !user.has_value()) {
      reader_.error(node, "a client names exactly one of 'cidr' or 'user'");
      return;
    }
    if (!node["role"]) reader_.error(node, "a client needs a 'role'");
    if (!role) return;
    ClientRule client;
    client.role = *role;
    client.version = version;
    client.pos = reader_.pos(node);
    if (user) {
      client.user = *user;
      policy_.clients.push_back(client);
      return;
    }
    for (const auto& [text, item] : cidrs) {
      std::string error;
      const auto cidr = Cidr::parse(text, &error);
      if (!cidr) {
        reader_.error(item, "bad client cidr " + quote(text) + ": " + error);
        continue;
      }
      client.cidr = *cidr;
      client.pos = reader_.pos(item);
      policy_.clients.push_back(client);
    }
  }

  void check_clients() {
    std::map<std::string, SourcePos> seen;
    for (const auto& client : policy_.clients) {
      const std::string key =
          client.cidr ? "cidr " + client.cidr->to_string() : "user " + client.user;
      const auto [it, inserted] = seen.emplace(key, client.pos);
      if (!inserted) {
        reader_.error(client.pos,
                      "client " + key + " is already mapped at " + policy_.where(it->second));
      }
    }
  }

  void read_rule(const YAML::Node& node) {
    Rule rule;
    rule.pos = reader_.pos(node);
    rule.ports = {PortRange{kHttpPort, kHttpPort}, PortRange{kHttpsPort, kHttpsPort}};
    GroupMask rule_versions = kEveryVersion;
    std::string rule_version_label;
    std::optional<YAML::Node> destinations;
    std::optional<YAML::Node> versions_node;
    for (const auto& [key, value] :
         reader_.map_entries(node, "a rule",
                             {"id", "action", "service", "description", "roles", "ports",
                              "versions", "destinations", "idle_timeout"})) {
      const std::string& k = key.Scalar();
      if (k == "id") {
        rule.id = reader_.scalar(value, "id").value_or("");
        if (!is_identifier(rule.id, true)) {
          reader_.error(value,
                        "bad rule id " + quote(rule.id) + ": use a-z, 0-9, '-', '_' and '.'");
        } else if (const auto [it, inserted] = rule_ids_.emplace(rule.id, rule.pos); !inserted) {
          reader_.error(value, "rule id " + quote(rule.id) + " is already used at " +
                                   policy_.where(it->second));
        }
      } else if (k == "action") {
        if (const auto text = reader_.scalar(value, "action")) {
          if (*text == "allow") {
            rule.action = Action::Allow;
          } else if (*text == "deny") {
            rule.action = Action::Deny;
          } else if (*text == "log") {
            rule.action = Action::Log;
          } else {
            reader_.error(value, "action must be allow, deny or log, not " + quote(*text));
          }
        }
      } else if (k == "service") {
        rule.service = reader_.scalar(value, "service").value_or("");
      } else if (k == "description") {
        rule.description = reader_.scalar(value, "description").value_or("");
      } else if (k == "roles") {
        rule.roles = 0;
        for (const auto& [name, item] : reader_.scalar_list(value, "roles")) {
          const int index = role_index(name, item);
          if (index == kAnyRole) rule.roles = kEveryRole;
          if (index >= 0) rule.roles |= RoleMask{1} << index;
          rule.role_names.push_back(name);
        }
        if (rule.role_names.empty())
          reader_.error(value, "roles must name at least one role (or 'any')");
      } else if (k == "ports") {
        if (auto ports = reader_.ports(value)) rule.ports = std::move(*ports);
      } else if (k == "idle_timeout") {
        rule.idle_timeout = reader_.duration(value, "idle_timeout");
      } else if (k == "versions") {
        versions_node = value;
        rule_versions = group_mask(value, rule_version_label);
      } else {
        destinations = value;
      }
    }
    if (!node.IsMap()) return;
    if (!node["id"]) reader_.error(node, "a rule needs an 'id'");
    if (!destinations) {
      reader_.error(node, "rule " + quote(rule.id) + " needs 'destinations'");
    } else if (destinations->IsMap()) {
      if (versions_node) {
        reader_.error(*versions_node,
                      "'versions' cannot be combined with destinations grouped by version");
      }
      for (const auto& [group, list] : reader_.map_entries(*destinations, "destinations")) {
        std::string label;
        const GroupMask mask = group_mask(group, label);
        read_destinations(list, rule, mask, label);
      }
    } else {
      read_destinations(*destinations, rule, rule_versions, rule_version_label);
    }
    policy_.rules.push_back(std::move(rule));
  }

  GroupMask group_mask(const YAML::Node& node, std::string& label) {
    GroupMask mask = 0;
    for (const auto& [name, item] : reader_.scalar_list(node, "versions")) {
      const int index = policy_.find_group(name);
      if (index < 0) {
        std::string known;
        for (const auto& group : policy_.version_groups)
          known += (known.empty() ? "" : ", ") + group.name;
        reader_.error(item, "unknown version group " + quote(name) + " (groups: " + known + ")");
        continue;
      }
      mask |= GroupMask{1} << index;
      label += (label.empty() ? "" : ",") + name;
    }
    return mask;
  }

  void read_destinations(const YAML::Node& list, Rule& rule, GroupMask versions,
                         const std::string& version_label) {
    const auto entries = reader_.scalar_list(list, "destinations");
    if (entries.empty()) reader_.error(list, "destinations must name at least one destination");
    for (const auto& [written, item] : entries) {
      const SourcePos at = reader_.pos(item);
      for (const auto& [text, value_pos] : expand(written, at)) {
        add_destination(rule, text, written, value_pos, at, versions, version_label);
      }
    }
  }

  // "${name}/path" -> one text per value of the variable; anything else as is.
  std::vector<std::pair<std::string, SourcePos>> expand(const std::string& written,
                                                        const SourcePos& at) {
    std::vector<std::pair<std::string, SourcePos>> out;
    if (written.rfind("${", 0) != 0) {
      if (written.find("${") != std::string::npos) {
        reader_.error(at, "a variable may only start a destination: " + quote(written));
        return out;
      }
      out.emplace_back(written, at);
      return out;
    }
    const auto close = written.find('}');
    if (close == std::string::npos) {
      reader_.error(at, "unterminated variable in " + quote(written));
      return out;
    }
    const std::string name = written.substr(2, close - 2);
    const std::string rest = written.substr(close + 1);
    if (!rest.empty() && rest.front() != '/') {
      reader_.error(at, "only a path may follow a variable: " + quote(written));
      return out;
    }
    const auto it = policy_.variables.find(name);
    if (it == policy_.variables.end()) {
      reader_.error(at, "undefined variable " + quote(name));
      return out;
    }
    for (const auto& value : it->second) {
      if (value.text.find('/') != std::string::npos && !rest.empty() && !Cidr::parse(value.text)) {
        reader_.error(value.pos, "variable " + quote(name) + " is used with a path, so its value " +
                                     quote(value.text) + " cannot carry one");
        continue;
      }
      out.emplace_back(value.text + rest, value.pos);
    }
    return out;
  }

  void add_destination(Rule& rule, const std::string& text, const std::string& written,
                       const SourcePos& value_pos, const SourcePos& at, GroupMask versions,
                       const std::string& version_label) {
    const auto [host_text, path] = split_path(text);
    std::string error;
    auto pattern = parse_host_pattern(host_text, error);
    if (!pattern) {
      reader_.error(value_pos, error);
      return;
    }
    if (!path.empty() && !valid_path(path)) {
      reader_.error(value_pos, "bad path " + quote(path) + ": printable ASCII starting with '/'");
      return;
    }
    Destination destination;
    destination.pattern = std::move(*pattern);
    destination.path = std::string(path);
    destination.versions = versions;
    destination.version_label = version_label;
    destination.written = written;
    destination.pos = at;
    const std::string key = rule.id + ' ' + destination.pattern.text + destination.path + ' ' +
                            std::to_string(destination.versions);
    if (const auto [it, inserted] = destination_keys_.emplace(key, at); !inserted) {
      reader_.warning(value_pos, "duplicate destination " + quote(text) + " in rule " +
                                     quote(rule.id) + " (first at " + policy_.where(it->second) +
                                     ")");
      return;
    }
    rule.destinations.push_back(std::move(destination));
  }

  void read_port_entry(const YAML::Node& node) {
    PortTableEntry entry;
    entry.pos = reader_.pos(node);
    entry.protocols = {"tcp"};
    for (const auto& [key, value] : reader_.map_entries(
             node, "a port table entry",
             {"component", "direction", "ports", "protocols", "required", "service", "note"})) {
      const std::string& k = key.Scalar();
      if (k == "component") {
        entry.component = reader_.scalar(value, "component").value_or("");
        if (!entry.component.empty() && policy_.find_role(entry.component) < 0) {
          reader_.error(value, "unknown component " + quote(entry.component) + roles_hint());
        }
      } else if (k == "direction") {
        const auto text = reader_.scalar(value, "direction").value_or("");
        if (text == "inbound") {
          entry.direction = Direction::Inbound;
        } else if (text == "outbound") {
          entry.direction = Direction::Outbound;
        } else {
          reader_.error(value, "direction must be inbound or outbound, not " + quote(text));
        }
      } else if (k == "ports") {
        if (auto ports = reader_.ports(value)) entry.ports = std::move(*ports);
      } else if (k == "protocols") {
        entry.protocols.clear();
        for (const auto& [text, item] : reader_.scalar_list(value, "protocols")) {
          if (text != "tcp" && text != "udp")
            reader_.error(item, "protocol must be tcp or udp, not " + quote(text));
          entry.protocols.push_back(text);
        }
      } else if (k == "required") {
        entry.required = reader_.boolean(value, "required").value_or(true);
      } else if (k == "service") {
        entry.service = reader_.scalar(value, "service").value_or("");
      } else {
        entry.note = reader_.scalar(value, "note").value_or("");
      }
    }
    if (!node.IsMap()) return;
    for (const char* required : {"component", "direction", "ports", "service"}) {
      if (!node[required])
        reader_.error(node, std::string("a port table entry needs '") + required + "'");
    }
    policy_.port_table.push_back(std::move(entry));
  }

  Diagnostics diagnostics_;
  Policy policy_;
  Settings settings_;
  detail::YamlReader reader_{diagnostics_, policy_.files};
  std::vector<Document> documents_;
  std::vector<std::string> include_stack_;
  std::set<std::string> loaded_;
  std::map<std::string, std::vector<SourcePos>> include_pos_;
  std::map<std::string, SourcePos> rule_ids_;
  std::unordered_map<std::string, SourcePos> destination_keys_;
  std::string default_role_;
  SourcePos default_role_pos_;
};

}  // namespace

Result<Config> load_config_file(const std::string& path) {
  if (path == kBuiltinCatalogName) return load_builtin_config();
  return Loader().load_root_file(path);
}

Result<Config> load_config_text(std::string_view text, const std::string& name) {
  return Loader().load_root(text, name, name);
}

Result<Config> load_builtin_config() {
  return Loader().load_root(builtin_catalog_text(), std::string(kBuiltinCatalogName),
                            std::string(kBuiltinCatalogName));
}

}  // namespace chokepoint::policy
