// GET /policy: the running policy, as one JSON object: where it came from,
// which built-in catalogs it includes and how the site set them, its
// digest, when it was loaded, how many rules, and its reloads.
#pragma once

#include <string>
#include <vector>

#include <chokepoint/control/reload.hpp>
#include <chokepoint/policy/catalogs.hpp>

namespace chokepoint::control {

// {"source", "catalogs": [{"name", "edition", VARIABLE: [values]...}],
// "sha256", "loaded_at", "rules", "generation", "reloads", "reload_failures"}
// and a newline.
std::string render_policy(const RunningPolicy& running,
                          const std::vector<policy::LoadedCatalog>& catalogs);

}  // namespace chokepoint::control
