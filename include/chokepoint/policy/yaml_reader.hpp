// Reading yaml-cpp nodes with positions, collecting every problem as a
// Diagnostic instead of stopping at the first. The policy loader reads with
// it, and so does a module that owns a section of the same files (config/
// reads `settings:`), so that every problem is reported the same way.
#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/policy/policy.hpp>

namespace chokepoint::policy {

class YamlReader {
 public:
  YamlReader(Diagnostics& diagnostics, const std::vector<std::string>& files)
      : diagnostics_(diagnostics), files_(files) {}

  // Which file the nodes passed from now on come from.
  void set_file(int file) { file_ = file; }
  int file() const { return file_; }

  SourcePos pos(const YAML::Node& node) const;
  void error(const SourcePos& pos, std::string message);
  void error(const YAML::Node& node, std::string message) { error(pos(node), std::move(message)); }
  void warning(const SourcePos& pos, std::string message);

  // The key/value pairs of a map, in file order. Reports a node that is not a
  // map, keys not in `allowed` (when given), and keys written twice; the
  // duplicates and unknown keys are left out of the result.
  using Entries = std::vector<std::pair<YAML::Node, YAML::Node>>;
  Entries map_entries(const YAML::Node& node, std::string_view what,
                      std::span<const std::string_view> allowed);
  Entries map_entries(const YAML::Node& node, std::string_view what,
                      std::initializer_list<std::string_view> allowed = {}) {
    return map_entries(node, what,
                       std::span<const std::string_view>(allowed.begin(), allowed.size()));
  }

  // A scalar's text; reports anything else.
  std::optional<std::string> scalar(const YAML::Node& node, std::string_view what);
  // A scalar or a sequence of scalars, as a list (a single value is a list of one).
  std::vector<std::pair<std::string, YAML::Node>> scalar_list(const YAML::Node& node,
                                                              std::string_view what);
  std::optional<bool> boolean(const YAML::Node& node, std::string_view what);
  // A decimal count 0..10^9.
  std::optional<std::size_t> count(const YAML::Node& node, std::string_view what);
  // One port or range ("443", "11000-11999") or a list of them.
  std::optional<PortSet> ports(const YAML::Node& node);
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node, std::string_view what);

 private:
  Diagnostics& diagnostics_;
  const std::vector<std::string>& files_;
  int file_ = 0;
};

}  // namespace chokepoint::policy
