// Loading a configuration file: YAML in, a validated Policy (or every problem
// as `file:line:column: message`) out. Never throws; yaml-cpp's exceptions
// stop at this boundary.
//
// File format (policy/README.md has the full reference):
//   version: 1                  required in every file
//   include: [other.yaml]       paths relative to this file, or builtin:deep-security.yaml
//   mode: enforce | audit
//   default_role: any | ROLE    the role of clients no `clients` entry names
//   roles: {NAME: {description, includes: [ROLE...]}}
//   version_groups: {NAME: {min: VERSION, below: VERSION}}
//   variables: {NAME: VALUE | [VALUE...]}
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

#include <string>
#include <string_view>

#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/policy/policy.hpp>
#include <chokepoint/policy/settings.hpp>

namespace chokepoint::policy {

struct Config {
  Policy policy;
  Settings settings;
};

// The name the built-in catalog goes by in diagnostics and `include:`.
inline constexpr std::string_view kBuiltinCatalogName = "builtin:deep-security.yaml";

// The text of policy/deep-security.yaml, compiled into the binary.
std::string_view builtin_catalog_text();

Result<Config> load_config_file(const std::string& path);
// `name` is used in diagnostics and to resolve relative includes.
Result<Config> load_config_text(std::string_view text, const std::string& name);
Result<Config> load_builtin_config();

}  // namespace chokepoint::policy
