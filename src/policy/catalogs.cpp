#include <array>

#include <chokepoint/policy/catalogs.hpp>

namespace chokepoint::policy {
namespace detail {
extern const std::string_view kBuiltinCatalogText;           // policy/deep-security.yaml
extern const std::string_view kWorkloadSecurityCatalogText;  // policy/workload-security.yaml
}  // namespace detail

namespace {

constexpr std::array<std::string_view, 1> kWorkloadSecurityVariables = {"workload_security_region"};

// Filled at first use: the texts are defined in other translation units.
const std::array<BuiltinCatalog, 2>& catalogs() {
  static const std::array<BuiltinCatalog, 2> all = {{
      {kBuiltinCatalogName, "Deep Security, on premises", detail::kBuiltinCatalogText, {}},
      {kWorkloadSecurityCatalogName,
       "Deep Security SaaS: Workload Security, Server & Workload Protection",
       detail::kWorkloadSecurityCatalogText, kWorkloadSecurityVariables},
  }};
  return all;
}

}  // namespace

std::string_view builtin_catalog_text() {
  return detail::kBuiltinCatalogText;
}

std::span<const BuiltinCatalog> builtin_catalogs() {
  return catalogs();
}

bool names_builtin(std::string_view name) {
  return name.substr(0, kBuiltinPrefix.size()) == kBuiltinPrefix;
}

const BuiltinCatalog* find_builtin_catalog(std::string_view name) {
  for (const auto& catalog : catalogs()) {
    if (catalog.name == name) return &catalog;
  }
  return nullptr;
}

std::string builtin_catalog_names() {
  std::string out;
  for (const auto& catalog : catalogs())
    out += (out.empty() ? "" : ", ") + std::string(catalog.name);
  return out;
}

std::vector<LoadedCatalog> loaded_catalogs(const Policy& policy) {
  std::vector<LoadedCatalog> out;
  for (const auto& file : policy.files) {
    const BuiltinCatalog* catalog = find_builtin_catalog(file);
    if (!catalog) continue;
    LoadedCatalog loaded;
    loaded.catalog = catalog;
    for (const auto name : catalog->site_variables) {
      std::vector<std::string> values;
      if (const auto it = policy.variables.find(std::string(name)); it != policy.variables.end()) {
        for (const auto& value : it->second)
          values.push_back(value.text);
      }
      loaded.variables.emplace_back(std::string(name), std::move(values));
    }
    out.push_back(std::move(loaded));
  }
  return out;
}

std::string describe(const LoadedCatalog& loaded) {
  std::string out(loaded.catalog->name);
  std::string settings;
  for (const auto& [name, values] : loaded.variables) {
    std::string list;
    for (const auto& value : values)
      list += (list.empty() ? "" : ", ") + value;
    settings += (settings.empty() ? "" : "; ") + name + ": " + (list.empty() ? "(none)" : list);
  }
  if (!settings.empty()) out += " (" + settings + ")";
  return out;
}

}  // namespace chokepoint::policy
