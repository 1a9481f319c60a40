// Private to the loader: the `settings:` section of a config file.
#pragma once

#include <chokepoint/policy/settings.hpp>

#include "yaml_reader.hpp"

namespace chokepoint::policy::detail {

// Reads `node` into a fresh Settings; problems go to `reader`.
Settings read_settings(YamlReader& reader, const YAML::Node& node);

}  // namespace chokepoint::policy::detail
