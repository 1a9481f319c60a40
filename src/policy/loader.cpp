#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/loader.hpp>

#include "identities.hpp"
#include "load_state.hpp"
#include "policy_files.hpp"
#include "rules_reader.hpp"

namespace chokepoint::policy {
namespace {

using detail::Document;

constexpr std::string_view kPolicyKeys[] = {"version",
                                            "include",
                                            "mode",
                                            "default_role",
                                            "roles",
                                            "version_groups",
                                            "variables",
                                            "clients",
                                            "rules",
                                            "ports",
                                            "original_destination",
                                            "tls",
                                            "pac",
                                            "inventory"};

// Reads the files, then the definitions of every file (what other sections
// refer to), then the sections that refer to them. Each job has its part:
// the files (policy_files), who is asking (identities), what is allowed
// (rules_reader); this class only runs them in order.
class Loader {
 public:
  explicit Loader(const ForeignSections& foreign) : foreign_(foreign) {
    top_level_keys_.assign(std::begin(kPolicyKeys), std::end(kPolicyKeys));
    for (const auto& section : foreign_)
      top_level_keys_.push_back(section.key);
  }

  Result<LoadedPolicy> load(std::string_view text, const std::string& name, const std::string& id) {
    files_.read(text, name, id);
    if (!has_errors(state_.diagnostics)) {
      for (const auto& doc : files_.documents())
        read_definitions(doc);
      identities_.resolve_roles();
      for (const auto& doc : files_.documents())
        read_uses(doc);
      identities_.check_clients();
      rules_.warn_unset_variables();
    }
    if (has_errors(state_.diagnostics))
      return Result<LoadedPolicy>::failure(std::move(state_.diagnostics));
    LoadedPolicy loaded;
    loaded.policy = std::move(state_.policy);
    loaded.sha256 = files_.digest();
    return Result<LoadedPolicy>(std::move(loaded), std::move(state_.diagnostics));
  }

  Result<LoadedPolicy> load_file(const std::string& path) {
    std::string text;
    if (!files_.read_root(path, text))
      return Result<LoadedPolicy>::failure(std::move(state_.diagnostics));
    return load(text, path, detail::PolicyFiles::canonical(path));
  }

 private:
  // Phase 1: what other sections refer to.
  void read_definitions(const Document& doc) {
    YamlReader& reader = state_.reader;
    reader.set_file(doc.file);
    for (const auto& [key, value] :
         reader.map_entries(doc.root, "the top level", top_level_keys_)) {
      const std::string& k = key.Scalar();
      if (k == "mode") {
        read_mode(value);
      } else if (k == "default_role") {
        identities_.read_default_role(value);
      } else if (k == "roles") {
        identities_.read_roles(value);
      } else if (k == "version_groups") {
        identities_.read_version_groups(value);
      } else if (k == "variables") {
        rules_.read_variables(value);
      } else if (k == "original_destination") {
        read_original_destination(value);
      } else if (k == "tls") {
        read_tls(value);
      } else if (k == "pac") {
        read_pac(value);
      } else if (k == "inventory") {
        identities_.read_inventory(value);
      } else {
        for (const auto& section : foreign_) {
          if (section.key == k) section.read(reader, value);
        }
      }
    }
  }

  void read_mode(const YAML::Node& value) {
    if (const auto text = state_.reader.scalar(value, "mode")) {
      if (*text == "enforce") {
        state_.policy.mode = Mode::Enforce;
      } else if (*text == "audit") {
        state_.policy.mode = Mode::Audit;
      } else {
        state_.reader.error(value, "mode must be 'enforce' or 'audit', not " + quote(*text));
      }
    }
  }

  void read_original_destination(const YAML::Node& value) {
    const auto text = state_.reader.scalar(value, "original_destination");
    if (text == "ignore") {
      state_.policy.original_destination = OriginalDestinationCheck::Ignore;
    } else if (text == "require-match") {
      state_.policy.original_destination = OriginalDestinationCheck::RequireMatch;
    } else if (text) {
      state_.reader.error(
          value, "original_destination must be ignore or require-match, not " + quote(*text));
    }
  }

  void read_tls(const YAML::Node& node) {
    YamlReader& reader = state_.reader;
    for (const auto& [key, value] :
         reader.map_entries(node, "tls", {"ech", "check_tunnel_sni", "deny_alert"})) {
      const std::string& k = key.Scalar();
      if (k == "ech") {
        const auto text = reader.scalar(value, "ech");
        if (text == "allow") {
          state_.policy.ech = EchPolicy::Allow;
        } else if (text == "deny") {
          state_.policy.ech = EchPolicy::Deny;
        } else if (text) {
          reader.error(value, "tls.ech must be allow or deny, not " + quote(*text));
        }
      } else if (k == "check_tunnel_sni") {
        if (const auto on = reader.boolean(value, "check_tunnel_sni"))
          state_.policy.check_tunnel_sni = *on;
      } else if (const auto on = reader.boolean(value, "deny_alert")) {
        state_.policy.deny_alert = *on;
      }
    }
  }

  void read_pac(const YAML::Node& node) {
    YamlReader& reader = state_.reader;
    for (const auto& [key, value] : reader.map_entries(node, "pac", {"fallback", "proxy"})) {
      const auto text = reader.scalar(value, "pac." + key.Scalar());
      if (!text) continue;
      if (key.Scalar() == "fallback") {
        if (*text == "DIRECT") {
          state_.policy.pac.fallback = PacFallback::Direct;
        } else if (*text == "PROXY") {
          state_.policy.pac.fallback = PacFallback::Proxy;
        } else {
          reader.error(value, "pac.fallback must be DIRECT or PROXY, not " + quote(*text));
        }
        continue;
      }
      // The address lands in a script every browser runs: only a normalised
      // HOST:PORT gets there.
      Host host;
      std::uint16_t port = 0;
      if (const auto error = parse_authority(*text, host, port); error != HostError::None) {
        reader.error(value, "pac.proxy must be HOST:PORT, not " + quote(*text) + " (" +
                                std::string(to_string(error)) + ")");
        continue;
      }
      state_.policy.pac.proxy = format_authority(host, port);
      state_.policy.pac.pos = reader.pos(value);
    }
  }

  // Phase 2: sections that refer to roles, groups and variables.
  void read_uses(const Document& doc) {
    state_.reader.set_file(doc.file);
    read_list(doc.root["clients"], "clients",
              [this](const YAML::Node& item) { identities_.read_client(item); });
    read_list(doc.root["rules"], "rules",
              [this](const YAML::Node& item) { rules_.read_rule(item); });
    read_list(doc.root["ports"], "ports",
              [this](const YAML::Node& item) { rules_.read_port_entry(item); });
  }

  template <class Read>
  void read_list(const YAML::Node& node, std::string_view what, Read read) {
    if (!node || node.IsNull()) return;
    if (!node.IsSequence()) {
      state_.reader.error(node, std::string(what) + " must be a list");
      return;
    }
    for (const auto& item : node)
      read(item);
  }

  const ForeignSections& foreign_;
  std::vector<std::string_view> top_level_keys_;
  detail::LoadState state_;
  detail::PolicyFiles files_{state_};
  detail::Identities identities_{state_};
  detail::RulesReader rules_{state_};
};

}  // namespace

Result<LoadedPolicy> load_config_file(const std::string& path, const ForeignSections& foreign) {
  if (names_builtin(path)) {
    if (const BuiltinCatalog* catalog = find_builtin_catalog(path))
      return Loader(foreign).load(catalog->text, path, path);
    return Result<LoadedPolicy>::failure(
        {Diagnostic{path, 0, 0, Severity::Error,
                    "no such built-in catalog; there are " + builtin_catalog_names()}});
  }
  return Loader(foreign).load_file(path);
}

Result<LoadedPolicy> load_config_text(std::string_view text, const std::string& name,
                                      const ForeignSections& foreign) {
  return Loader(foreign).load(text, name, name);
}

Result<LoadedPolicy> load_builtin_config(const ForeignSections& foreign) {
  return Loader(foreign).load(builtin_catalog_text(), std::string(kBuiltinCatalogName),
                              std::string(kBuiltinCatalogName));
}

}  // namespace chokepoint::policy
