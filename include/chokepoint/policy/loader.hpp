// Loading a configuration file: YAML in, a validated Policy (or every problem
// as `file:line:column: message`) out. Never throws; yaml-cpp's exceptions
// stop at this boundary. The loader knows the policy's sections only; a
// section another module owns (config/ owns `settings:`) is handed to that
// module's reader as the files are read (ForeignSection).
//
// File format (policy/README.md has the full reference):
//   version: 1                  required in every file
//   include: [other.yaml]       paths relative to this file, or a built-in catalog
//                               (catalogs.hpp: builtin:deep-security.yaml, ...)
//   mode: enforce | audit
//   default_role: any | ROLE    the role of clients no `clients` entry names
//   roles: {NAME: {description, includes: [ROLE...]}}  a role defined again
//                               exactly as before is the same role; otherwise refused
//   version_groups: {NAME: {min: VERSION, below: VERSION}}
//   variables: {NAME: VALUE | [VALUE...]}  used as ${NAME} (interpolation.hpp)
//   clients: [{cidr | user, role, version}]
//   rules: [{id, action, service, description, roles, ports, versions, destinations}]
//   ports: [{component, direction, ports, protocols, required, service, note}]
//   pac: {fallback: DIRECT | PROXY, proxy: HOST:PORT}
//
// Included files are read first; the including file then overrides scalars
// (mode, default_role, pac) and variable values, and adds roles, groups, clients,
// rules and port entries. So an operator keeps the shipped catalog untouched
// and sets `variables: {manager: [...]}` in a file of their own.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/policy/catalogs.hpp>
#include <chokepoint/policy/policy.hpp>

namespace YAML {
class Node;
}

namespace chokepoint::policy {

class YamlReader;

struct LoadedPolicy {
  Policy policy;
  // Hex SHA-256 of the bytes the loader read, every file in the order of
  // policy.files: what the policy was made from, not what the files say now.
  std::string sha256;
};

// A top-level key of the file that another module reads. The loader accepts
// the key and calls `read` with each file's section, in the order the files
// apply (included files first), between the policy's own sections, so every
// diagnostic lands in file order.
struct ForeignSection {
  std::string_view key;
  std::function<void(YamlReader& reader, const YAML::Node& section)> read;
};
using ForeignSections = std::vector<ForeignSection>;

// `path` may name a built-in catalog (`builtin:workload-security.yaml`).
Result<LoadedPolicy> load_config_file(const std::string& path, const ForeignSections& foreign = {});
// `name` is used in diagnostics and to resolve relative includes.
Result<LoadedPolicy> load_config_text(std::string_view text, const std::string& name,
                                      const ForeignSections& foreign = {});
// The default catalog, builtin:deep-security.yaml.
Result<LoadedPolicy> load_builtin_config(const ForeignSections& foreign = {});

}  // namespace chokepoint::policy
