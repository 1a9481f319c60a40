#include <algorithm>
#include <charconv>

#include <chokepoint/net/resolv_conf.hpp>

namespace chokepoint::net {
namespace {

// glibc's RES_MAXRETRANS and RES_MAXRETRY.
constexpr int kMaxTimeoutSeconds = 30;
constexpr int kMaxAttempts = 5;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

void apply_option(std::string_view option, ResolvTiming& timing) {
  const auto value_of = [&](std::string_view prefix, int& out) {
    if (option.substr(0, prefix.size()) != prefix) return false;
    const std::string_view digits = option.substr(prefix.size());
    int value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return false;
    out = value;
    return true;
  };
  int value = 0;
  if (value_of("timeout:", value)) {
    timing.timeout = std::chrono::seconds(std::clamp(value, 1, kMaxTimeoutSeconds));
  } else if (value_of("attempts:", value)) {
    timing.attempts = std::clamp(value, 1, kMaxAttempts);
  }
}

void apply_options(std::string_view text, ResolvTiming& timing) {
  std::size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && is_space(text[at]))
      ++at;
    const std::size_t start = at;
    while (at < text.size() && !is_space(text[at]))
      ++at;
    if (at > start) apply_option(text.substr(start, at - start), timing);
  }
}

}  // namespace

ResolvTiming parse_resolv_timing(std::string_view resolv_conf, std::string_view res_options) {
  ResolvTiming timing;
  while (!resolv_conf.empty()) {
    const auto end = resolv_conf.find('\n');
    std::string_view line = resolv_conf.substr(0, end);
    resolv_conf = end == std::string_view::npos ? std::string_view() : resolv_conf.substr(end + 1);
    constexpr std::string_view kOptions = "options";
    if (line.substr(0, kOptions.size()) == kOptions && line.size() > kOptions.size() &&
        is_space(line[kOptions.size()])) {
      apply_options(line.substr(kOptions.size()), timing);
    }
  }
  apply_options(res_options, timing);
  return timing;
}

}  // namespace chokepoint::net
