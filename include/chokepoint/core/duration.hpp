// Durations as operators write them: "250ms", "30s", "5m", "1h", "2d", or a
// bare number of seconds. Positive, at most a year.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace chokepoint {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace chokepoint
