// Deep Security versions as clients report them: "20", "20.0", "12.0.0-1234",
// "20.0.1-5678", and as the manager's API writes them, with the build as a
// fourth dotted part: "20.0.1.5678" is 20.0.1-5678. Compared numerically,
// part by part; a missing part is 0, so "20" == "20.0" == "20.0.0".
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chokepoint {

class Version {
 public:
  Version() = default;
  // major[.minor[.patch[-build | .build]]], or major[.minor]-build; every
  // part decimal, at most 9 digits.
  static std::optional<Version> parse(std::string_view text);

  std::uint32_t major() const { return parts_[0]; }
  std::uint32_t minor() const { return parts_[1]; }
  std::string to_string() const;

  // Only the numbers count: "20" == "20.0".
  friend auto operator<=>(const Version& a, const Version& b) { return a.parts_ <=> b.parts_; }
  friend bool operator==(const Version& a, const Version& b) { return a.parts_ == b.parts_; }

 private:
  std::array<std::uint32_t, 4> parts_{};  // major, minor, patch, build
  std::uint8_t given_ = 0;                // parts written, for to_string
};

}  // namespace chokepoint
