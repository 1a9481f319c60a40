#include <charconv>
#include <cstddef>

#include <chokepoint/core/rate.hpp>

namespace chokepoint {

std::optional<double> parse_rate(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view count = text.substr(0, slash);
  const std::string_view per = slash == std::string_view::npos ? "s" : text.substr(slash + 1);
  const double seconds = per == "s" ? 1 : per == "m" ? 60 : 0;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), value);
  if (ec != std::errc() || end != count.data() + count.size() || count.empty() || seconds == 0 ||
      value > 1'000'000'000) {
    return std::nullopt;
  }
  return static_cast<double>(value) / seconds;
}

}  // namespace chokepoint
