#include <algorithm>
#include <charconv>
#include <set>

#include <chokepoint/core/duration.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/yaml_reader.hpp>

namespace chokepoint::policy {
namespace {

std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "an undefined value";
  }
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (const auto word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

std::optional<PortRange> parse_port_range(std::string_view text) {
  const auto dash = text.find('-');
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  if (parse_port(text.substr(0, dash), first) != HostError::None) return std::nullopt;
  last = first;
  if (dash != std::string_view::npos &&
      (parse_port(text.substr(dash + 1), last) != HostError::None || last < first)) {
    return std::nullopt;
  }
  return PortRange{first, last};
}

}  // namespace

SourcePos YamlReader::pos(const YAML::Node& node) const {
  const auto mark = node.Mark();
  if (mark.is_null()) return SourcePos{file_, 0, 0};
  return SourcePos{file_, mark.line + 1, mark.column + 1};
}

void YamlReader::error(const SourcePos& pos, std::string message) {
  const std::string& file = pos.file >= 0 ? files_[static_cast<std::size_t>(pos.file)] : files_[0];
  diagnostics_.push_back(
      Diagnostic{file, pos.line, pos.column, Severity::Error, std::move(message)});
}

void YamlReader::warning(const SourcePos& pos, std::string message) {
  const std::string& file = pos.file >= 0 ? files_[static_cast<std::size_t>(pos.file)] : files_[0];
  diagnostics_.push_back(
      Diagnostic{file, pos.line, pos.column, Severity::Warning, std::move(message)});
}

YamlReader::Entries YamlReader::map_entries(const YAML::Node& node, std::string_view what,
                                            std::span<const std::string_view> allowed) {
  Entries entries;
  if (!node.IsMap()) {
    error(node, std::string(what) + " must be a map, not " + kind_of(node));
    return entries;
  }
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key, "keys of " + std::string(what) + " must be scalars");
      continue;
    }
    const std::string& name = key.Scalar();
    if (allowed.size() != 0 &&
        std::find(allowed.begin(), allowed.end(), std::string_view(name)) == allowed.end()) {
      error(key, "unknown key " + quote(name) + " in " + std::string(what) +
                     " (expected one of: " + join(allowed) + ")");
      continue;
    }
    if (!seen.insert(name).second) {
      error(key, "key " + quote(name) + " is written twice in " + std::string(what));
      continue;
    }
    entries.emplace_back(key, it->second);
  }
  return entries;
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + " must be a scalar, not " + kind_of(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::vector<std::pair<std::string, YAML::Node>> YamlReader::scalar_list(const YAML::Node& node,
                                                                        std::string_view what) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (node.IsNull()) return out;
  if (node.IsScalar()) {
    out.emplace_back(node.Scalar(), node);
    return out;
  }
  if (!node.IsSequence()) {
    error(node, std::string(what) + " must be a value or a list of values, not " + kind_of(node));
    return out;
  }
  for (const auto& item : node) {
    if (auto text = scalar(item, std::string(what) + " entries")) out.emplace_back(*text, item);
  }
  return out;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, std::string_view what) {
  const auto text = scalar(node, what);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  error(node, std::string(what) + " must be true or false, not " + quote(*text));
  return std::nullopt;
}

std::optional<std::size_t> YamlReader::count(const YAML::Node& node, std::string_view what) {
  const auto text = scalar(node, what);
  if (!text) return std::nullopt;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value > 1'000'000'000) {
    error(node, std::string(what) + " must be a whole number, not " + quote(*text));
    return std::nullopt;
  }
  return value;
}

std::optional<PortSet> YamlReader::ports(const YAML::Node& node) {
  PortSet set;
  bool ok = true;
  const auto items = scalar_list(node, "ports");
  if (items.empty()) {
    error(node, "ports must name at least one port");
    return std::nullopt;
  }
  for (const auto& [text, item] : items) {
    const auto range = parse_port_range(text);
    if (!range) {
      error(item, "bad port " + quote(text) + ": a port is 1 to 65535, a range is FIRST-LAST");
      ok = false;
      continue;
    }
    set.push_back(*range);
  }
  if (!ok) return std::nullopt;
  return set;
}

std::optional<std::chrono::milliseconds> YamlReader::duration(const YAML::Node& node,
                                                              std::string_view what) {
  const auto text = scalar(node, what);
  if (!text) return std::nullopt;
  const auto value = parse_duration(*text);
  if (!value) {
    error(node, std::string(what) +
                    " must be a positive duration such as 500ms, 30s, 5m, 1h or 2d, not " +
                    quote(*text));
  }
  return value;
}

}  // namespace chokepoint::policy
