// Process settings that may live in the config file beside the policy
// (DESIGN.md: "every process setting also has a flag, and a flag wins").
// Every field is optional here; the command line fills the gaps with flags
// and then with defaults.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <chokepoint/policy/policy.hpp>

namespace chokepoint::policy {

struct Settings {};

}  // namespace chokepoint::policy
