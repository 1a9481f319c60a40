#include <chokepoint/config/config_file.hpp>

#include "settings_reader.hpp"

namespace chokepoint::config {
namespace {

// Reads the policy and, in the same pass, every file's `settings:`.
template <class Load>
Result<Config> load_with_settings(Load load) {
  SettingsLayer settings;
  const policy::ForeignSections sections = {
      {"settings", [&settings](policy::YamlReader& reader, const YAML::Node& node) {
         detail::read_settings(reader, node, settings);
       }}};
  auto loaded = load(sections);
  if (!loaded) return Result<Config>::failure(loaded.diagnostics());
  Diagnostics warnings = loaded.diagnostics();
  return Result<Config>(Config{std::move(loaded).value(), std::move(settings)},
                        std::move(warnings));
}

}  // namespace

Result<Config> load_config_file(const std::string& path) {
  return load_with_settings(
      [&](const policy::ForeignSections& s) { return policy::load_config_file(path, s); });
}

Result<Config> load_config_text(std::string_view text, const std::string& name) {
  return load_with_settings(
      [&](const policy::ForeignSections& s) { return policy::load_config_text(text, name, s); });
}

Result<Config> load_builtin_config() {
  return load_with_settings(
      [](const policy::ForeignSections& s) { return policy::load_builtin_config(s); });
}

Result<Config> load_config(const std::string& path) {
  return path.empty() ? load_builtin_config() : load_config_file(path);
}

}  // namespace chokepoint::config
