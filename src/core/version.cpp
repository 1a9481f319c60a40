#include <chokepoint/core/version.hpp>

namespace chokepoint {

std::optional<Version> Version::parse(std::string_view text) {
  Version v;
  std::size_t part = 0;
  std::size_t digits = 0;
  bool in_build = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (++digits > 9) return std::nullopt;
      v.parts_[part] = v.parts_[part] * 10 + static_cast<std::uint32_t>(c - '0');
      continue;
    }
    if (digits == 0) return std::nullopt;
    if (c == '.' && !in_build && part < 3) {
      // A fourth dotted part is the build, as the manager writes an agent's
      // version ("20.0.1.690" is 20.0.1-690).
      ++part;
      in_build = part == 3;
    } else if (c == '-' && !in_build && part <= 2) {
      in_build = true;
      part = 3;
    } else {
      return std::nullopt;
    }
    digits = 0;
  }
  if (digits == 0) return std::nullopt;
  v.given_ = static_cast<std::uint8_t>(part + 1);
  return v;
}

std::string Version::to_string() const {
  std::string out = std::to_string(parts_[0]) + '.' + std::to_string(parts_[1]);
  if (given_ >= 3 || parts_[2] != 0) out += '.' + std::to_string(parts_[2]);
  if (given_ == 4) out += '-' + std::to_string(parts_[3]);
  return out;
}

}  // namespace chokepoint
