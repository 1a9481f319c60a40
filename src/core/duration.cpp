#include <charconv>
#include <cstdint>

#include <chokepoint/core/duration.hpp>

namespace chokepoint {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const auto [next, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || next == begin || value <= 0) return std::nullopt;
  const std::string_view unit(next, static_cast<std::size_t>(end - next));
  std::int64_t scale = 0;
  if (unit == "ms") scale = 1;
  if (unit.empty() || unit == "s") scale = 1000;
  if (unit == "m") scale = 60'000;
  if (unit == "h") scale = 3'600'000;
  if (unit == "d") scale = 86'400'000;
  constexpr std::int64_t kLongest = std::int64_t{366} * 86'400'000;
  if (scale == 0 || value > kLongest / scale) return std::nullopt;
  return std::chrono::milliseconds(value * scale);
}

}  // namespace chokepoint
