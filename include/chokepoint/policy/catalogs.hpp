// The catalogs compiled into the binary (DESIGN.md, "Catalogs"). Each is a
// complete configuration by itself, named `builtin:FILE` wherever a file
// name goes (`include:`, `--config`), and a site file may include several:
//   builtin:deep-security.yaml       the on-premises help page (policy/deep-security.yaml)
//   builtin:workload-security.yaml   the SaaS edition, Workload Security, now Server &
//                                    Workload Protection (policy/workload-security.yaml)
// Both define the roles agent, relay and api-client identically: the loader
// takes a role defined again exactly as before as the same role
// (policy/README.md, "Keys").
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/policy/policy.hpp>

namespace chokepoint::policy {

struct BuiltinCatalog {
  std::string_view name;     // "builtin:workload-security.yaml"
  std::string_view edition;  // what it is a catalog of, for status pages
  std::string_view text;     // the YAML
  // Variables a site sets to fit the catalog to itself, shown beside the
  // catalog's name wherever the running policy is described.
  std::span<const std::string_view> site_variables;
};

// The name the default catalog goes by (what `chokepoint` serves without --config).
inline constexpr std::string_view kBuiltinCatalogName = "builtin:deep-security.yaml";
inline constexpr std::string_view kWorkloadSecurityCatalogName = "builtin:workload-security.yaml";
inline constexpr std::string_view kBuiltinPrefix = "builtin:";

// The text of policy/deep-security.yaml, compiled into the binary.
std::string_view builtin_catalog_text();

std::span<const BuiltinCatalog> builtin_catalogs();

// True when `name` is in the built-in namespace ("builtin:..."), known or not:
// such a name is never read from disk.
bool names_builtin(std::string_view name);

// The catalog called `name`, or nullptr.
const BuiltinCatalog* find_builtin_catalog(std::string_view name);

// "builtin:deep-security.yaml, builtin:workload-security.yaml", for messages.
std::string builtin_catalog_names();

// A built-in catalog a policy was loaded from, with the values its site
// variables have in that policy.
struct LoadedCatalog {
  const BuiltinCatalog* catalog = nullptr;
  std::vector<std::pair<std::string, std::vector<std::string>>> variables;
};

// The built-in catalogs among the policy's files, in the order they were read.
std::vector<LoadedCatalog> loaded_catalogs(const Policy& policy);

// "builtin:workload-security.yaml (workload_security_region: jp-1)"; a
// variable with no value shows as "(none)".
std::string describe(const LoadedCatalog& loaded);

}  // namespace chokepoint::policy
