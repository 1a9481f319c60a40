#include "settings_reader.hpp"

#include <algorithm>
#include <map>
#include <type_traits>
#include <vector>

namespace chokepoint::config::detail {
namespace {

using policy::YamlReader;

// The last part of a key ("idle" of "timeouts.idle"): what messages call it.
std::string_view leaf(std::string_view key) {
  const auto dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

std::string_view group(std::string_view key) {
  const auto dot = key.find('.');
  return dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
}

// One value of `Kind` from `node`, checked; nothing (after reporting) when it
// is written wrong. The kinds the reader has its own words for use them.
template <class Kind, class Check>
std::optional<typename Kind::Value> read_value(YamlReader& reader, const YAML::Node& node,
                                               std::string_view name, const Check& check) {
  std::optional<typename Kind::Value> value;
  std::string error;
  if constexpr (Kind::kList) {
    typename Kind::Value items;
    for (const auto& [text, item] : reader.scalar_list(node, name)) {
      if (auto parsed = Kind::parse(text, name, error)) {
        items.push_back(std::move(*parsed));
      } else {
        reader.error(item, error);
      }
    }
    // An empty list says nothing: it leaves what an earlier file said.
    if (!items.empty()) value = std::move(items);
  } else if constexpr (std::is_same_v<Kind, Duration>) {
    value = reader.duration(node, name);
  } else if constexpr (std::is_same_v<Kind, Switch>) {
    value = reader.boolean(node, name);
  } else if constexpr (std::is_same_v<Kind, Number<typename Kind::Value>>) {
    if (const auto count = reader.count(node, name))
      value = static_cast<typename Kind::Value>(*count);
  } else if (const auto text = reader.scalar(node, name)) {
    value = Kind::parse(*text, name, error);
    if (!value) reader.error(node, error);
  }
  if (value && !check(*value, name, error)) {
    reader.error(node, error);
    return std::nullopt;
  }
  return value;
}

// What to do with one key of `settings:` (or of one of its groups).
using ReadOne = void (*)(YamlReader&, const YAML::Node&, SettingsLayer&);

struct Key {
  std::string_view group;  // empty: directly under `settings:`
  std::string_view name;
  ReadOne read;
};

const std::vector<Key>& keys() {
  static const std::vector<Key> table = {
#define CHOKEPOINT_SETTING_KEY(field, Kind, yaml, flag, fallback, check, ...) \
  Key{group(yaml), leaf(yaml),                                                \
      [](YamlReader& reader, const YAML::Node& node, SettingsLayer& into) {   \
        if (auto value = read_value<Kind>(reader, node, leaf(yaml), check))   \
          into.field = std::move(*value);                                     \
      }},
      CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_KEY)
#undef CHOKEPOINT_SETTING_KEY
  };
  return table;
}

// The names allowed directly under `what` (`settings:` itself, or a group), in table order.
std::vector<std::string_view> names_in(std::string_view of_group) {
  std::vector<std::string_view> names;
  for (const Key& key : keys()) {
    const std::string_view name = of_group.empty() && !key.group.empty() ? key.group : key.name;
    if ((of_group.empty() || key.group == of_group) &&
        std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  }
  return names;
}

void read_group(YamlReader& reader, const YAML::Node& node, std::string_view of_group,
                SettingsLayer& into) {
  const auto allowed = names_in(of_group);
  const std::string what = of_group.empty() ? "settings" : std::string(of_group);
  for (const auto& [key, value] : reader.map_entries(node, what, allowed)) {
    const std::string& name = key.Scalar();
    for (const Key& k : keys()) {
      if (of_group.empty() && k.group == name) {
        read_group(reader, value, k.group, into);
        break;
      }
      if (k.group == of_group && k.name == name) {
        k.read(reader, value, into);
        break;
      }
    }
  }
}

}  // namespace

void read_settings(YamlReader& reader, const YAML::Node& node, SettingsLayer& into) {
  read_group(reader, node, {}, into);
}

}  // namespace chokepoint::config::detail
