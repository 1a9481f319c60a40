// Private to config/: the `settings:` section of a config file, read with
// the policy loader's YamlReader so its problems read like the policy's.
#pragma once

#include <chokepoint/config/settings.hpp>
#include <chokepoint/policy/yaml_reader.hpp>

namespace chokepoint::config::detail {

// Reads `node` into `into`: what this file says replaces what earlier files
// said, setting by setting. Problems go to `reader`.
void read_settings(policy::YamlReader& reader, const YAML::Node& node, SettingsLayer& into);

}  // namespace chokepoint::config::detail
