#include <chokepoint/config/flags.hpp>

namespace chokepoint::config {
namespace {

// One value of a setting's `Kind` into the flags' layer: a switch is set by
// its presence, a list gains an item, anything else is replaced.
template <class Kind, class Check>
bool read_setting(const std::string& text, std::string_view flag, const Check& check,
                  std::optional<typename Kind::Value>& into, std::string& error) {
  if constexpr (Kind::kSwitch) {
    into = true;
  } else if constexpr (Kind::kList) {
    auto item = Kind::parse(text, flag, error);
    if (!item) return false;
    if (!into) into.emplace();
    into->push_back(std::move(*item));
  } else {
    auto value = Kind::parse(text, flag, error);
    if (!value || !check(*value, flag, error)) return false;
    into = std::move(*value);
  }
  return true;
}

template <class Kind>
constexpr Takes takes() {
  if constexpr (Kind::kSwitch) {
    return Takes::Nothing;
  } else {
    return Kind::kList ? Takes::Each : Takes::One;
  }
}

// A setting's row as --help shows it: its help, and then where the file
// says it and its default (a label and its value stay on one line).
OptionInfo row_info(const SettingInfo& s, Takes takes) {
  std::string help(s.help);
  help += " [settings:" + std::string(1, kNoBreak) + std::string(s.yaml_key);
  if (!s.default_text.empty() && !s.is_switch) {
    help += ";" + std::string(1, kNoBreak) + "default" + std::string(1, kNoBreak) +
            std::string(s.default_text);
  }
  return {std::string(s.flag), std::string(s.metavar), help + "]", takes};
}

std::vector<Option<RunFlags>> run_options() {
  std::vector<Option<RunFlags>> options = {
      option("--config", "FILE", "the policy and, under `settings:`, these options",
             &RunFlags::config_path)};
  std::size_t row = 0;
#define CHOKEPOINT_SETTING_OPTION(field, Kind, yaml, flag, fallback, check, ...)                  \
  options.push_back({row_info(kSettingInfo[row++], takes<Kind>()),                                \
                     [](RunFlags& flags, const std::string& text, std::string& error) {           \
                       return read_setting<Kind>(text, flag, check, flags.settings.field, error); \
                     }});
  CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_OPTION)
#undef CHOKEPOINT_SETTING_OPTION
  return options;
}

std::string flag_with_value(const SettingInfo& s) {
  std::string out(s.flag);
  if (!s.metavar.empty()) out += " " + std::string(s.metavar);
  return out;
}

// What the README table shows as the default.
std::string default_text(const SettingInfo& s) {
  if (s.is_switch) return s.default_text == "true" ? "on" : "off";
  return std::string(s.default_text);
}

// Markdown's table cells: a literal '|' must be escaped.
std::string cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

const CommandLine<RunFlags>& run_command_line() {
  static const CommandLine<RunFlags> line(
      {"run",
       "serve (default: the built-in Deep Security catalog on 127.0.0.1:3128, audit "
       "to stdout)",
       "Serves the policy of FILE (default: the built-in Deep Security catalog). Every "
       "option is also a key under `settings:` in the config file; a flag wins over the "
       "file.",
       "[run] [--config FILE] [options]"},
      run_options());
  return line;
}

std::string markdown_table() {
  std::string out =
      "| option | `settings:` key | default | |\n"
      "|---|---|---|---|\n";
  for (const SettingInfo& s : kSettingInfo) {
    const std::string fallback = default_text(s);
    out += "| `" + cell(flag_with_value(s)) + "` | `" + std::string(s.yaml_key) + "` | " +
           (fallback.empty() ? "" : "`" + cell(fallback) + "`") + " | " + cell(s.help) + " |\n";
  }
  return out;
}

}  // namespace chokepoint::config
