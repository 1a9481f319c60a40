// Rates as operators write them: "10/s", "600/m", or a bare number per
// second; 0 means none. As events per second.
#pragma once

#include <optional>
#include <string_view>

namespace chokepoint {

std::optional<double> parse_rate(std::string_view text);

}  // namespace chokepoint
