// Process settings: what `chokepoint run` serves with (listeners, sinks,
// limits, timeouts), as opposed to the policy, which decides. Generated from
// the one table in config/settings_table.hpp.
//
//   SettingsLayer   what one source says: the config file's `settings:`, or
//                   the flags. Every field optional: unset means "not said".
//   Settings        the resolved values: the defaults, then the file, then
//                   the flags, field by field (a flag wins).
//
// This module never touches the network or the policy's meaning; it only
// turns text into values and values into help. Pure (no Asio).
#pragma once

#include <bitset>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/config/settings_table.hpp>

namespace chokepoint::config {

// One enumerator per row of the table, in its order.
enum class SettingId : std::size_t {
#define CHOKEPOINT_SETTING_ID(field, ...) field,
  CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_ID)
#undef CHOKEPOINT_SETTING_ID
};

#define CHOKEPOINT_SETTING_COUNT(...) +1
inline constexpr std::size_t kSettingCount = 0 CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_COUNT);
#undef CHOKEPOINT_SETTING_COUNT

// A row of the table as data, for the parts that only print (help, README).
struct SettingInfo {
  std::string_view field;
  std::string_view yaml_key;
  std::string_view flag;
  std::string_view default_text;
  std::string_view metavar;
  std::string_view help;
  bool repeatable;
  bool is_switch;
};

inline constexpr SettingInfo kSettingInfo[] = {
#define CHOKEPOINT_SETTING_INFO(field, Kind, yaml, flag, fallback, check, metavar, help) \
  SettingInfo{#field, yaml, flag, fallback, metavar, help, Kind::kList, Kind::kSwitch},
    CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_INFO)
#undef CHOKEPOINT_SETTING_INFO
};

// The value the table's default text parses to (the Kind's empty value for
// an empty text). A default that does not parse is a bug the unit tests catch.
template <class Kind>
typename Kind::Value default_value(std::string_view text) {
  typename Kind::Value value{};
  if (text.empty()) return value;
  std::string ignored;
  if constexpr (Kind::kList) {
    if (auto item = Kind::parse(text, "default", ignored)) value.push_back(std::move(*item));
  } else if (auto parsed = Kind::parse(text, "default", ignored)) {
    value = std::move(*parsed);
  }
  return value;
}

struct SettingsLayer {
#define CHOKEPOINT_SETTING_OPTIONAL(field, Kind, ...) std::optional<Kind::Value> field;
  CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_OPTIONAL)
#undef CHOKEPOINT_SETTING_OPTIONAL

  // Fields set in `other` replace those here (a later file, or the flags).
  void override_with(const SettingsLayer& other);
};

struct Settings {
#define CHOKEPOINT_SETTING_FIELD(field, Kind, yaml, flag, fallback, ...) \
  Kind::Value field = default_value<Kind>(fallback);
  CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_FIELD)
#undef CHOKEPOINT_SETTING_FIELD

  // Whether the file or a flag set this setting (rather than its default).
  bool given(SettingId id) const {
    return given_[static_cast<std::size_t>(id)];
  }

 private:
  friend Settings resolve(const SettingsLayer& file, const SettingsLayer& flags);
  std::bitset<kSettingCount> given_;
};

// The defaults, then `file`, then `flags`; then the rules between settings:
// a listener of another kind replaces the default explicit listener, and no
// thread count means one per core.
Settings resolve(const SettingsLayer& file, const SettingsLayer& flags);

}  // namespace chokepoint::config
