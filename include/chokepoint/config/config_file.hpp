// Loading a configuration file: the policy (policy/loader.hpp) and the
// process settings under `settings:` (config/settings.hpp), in one pass, so
// that every problem of either is reported as `file:line:column: message`
// in file order. `check`, `explain` and `run` load through here; the policy
// module alone does not know the `settings:` key.
#pragma once

#include <string>
#include <string_view>

#include <chokepoint/config/settings.hpp>
#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/policy/loader.hpp>

namespace chokepoint::config {

struct Config {
  policy::LoadedPolicy policy;  // the policy, its files and their digest
  SettingsLayer settings;       // what the files say; later files win
};

Result<Config> load_config_file(const std::string& path);
// `name` is used in diagnostics and to resolve relative includes.
Result<Config> load_config_text(std::string_view text, const std::string& name);
Result<Config> load_builtin_config();
// The file at `path`, or the built-in catalog when `path` is empty.
Result<Config> load_config(const std::string& path);

}  // namespace chokepoint::config
