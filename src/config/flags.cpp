#include <algorithm>

#include <chokepoint/config/flags.hpp>
#include <chokepoint/core/diagnostic.hpp>

namespace chokepoint::config {
namespace {

constexpr std::size_t kHelpColumn = 34;
constexpr std::size_t kHelpWidth = 100;
constexpr char kGlue = '\x01';

// `--name VALUE` or `--name=VALUE` at args[at]: the value, with `at` moved
// past it; nullopt when args[at] is another flag. A missing value is an error.
std::optional<std::string> option_value(const std::vector<std::string>& args, std::size_t& at,
                                        std::string_view name, std::string& error) {
  const std::string& arg = args[at];
  if (arg == name) {
    if (at + 1 >= args.size()) {
      error = std::string(name) + " needs a value";
      return std::nullopt;
    }
    at += 2;
    return args[at - 1];
  }
  if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 &&
      arg[name.size()] == '=') {
    ++at;
    return arg.substr(name.size() + 1);
  }
  return std::nullopt;
}

// One flag of `Kind` into `into`; false when args[at] is not this flag.
template <class Kind, class Check>
bool read_flag(const std::vector<std::string>& args, std::size_t& at, std::string_view name,
               const Check& check, std::optional<typename Kind::Value>& into, std::string& error) {
  if constexpr (Kind::kSwitch) {
    if (args[at] != name) return false;
    ++at;
    into = true;
    return true;
  } else {
    const auto text = option_value(args, at, name, error);
    if (!text) return !error.empty();
    if constexpr (Kind::kList) {
      auto item = Kind::parse(*text, name, error);
      if (!item) return true;
      if (!into) into.emplace();
      into->push_back(std::move(*item));
    } else {
      auto value = Kind::parse(*text, name, error);
      if (!value || !check(*value, name, error)) return true;
      into = std::move(*value);
    }
    return true;
  }
}

// `text` wrapped to `width` columns, every line after the first indented to `indent`.
std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out;
  std::size_t column = indent;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (column > indent && column + 1 + word.size() > width) {
      out += '\n' + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
  }
  return out;
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

bool parse_run_flags(const std::vector<std::string>& args, RunFlags& flags, std::string& error) {
  for (std::size_t at = 0; at < args.size();) {
    if (args[at] == "--help" || args[at] == "-h") {
      flags.help = true;
      ++at;
      continue;
    }
    if (auto path = option_value(args, at, "--config", error)) {
      flags.config_path = *path;
      continue;
    }
    if (!error.empty()) return false;
    bool known = false;
#define CHOKEPOINT_SETTING_FLAG(field, Kind, yaml, flag, fallback, check, ...) \
  if (!known) known = read_flag<Kind>(args, at, flag, check, flags.settings.field, error);
    CHOKEPOINT_SETTINGS(CHOKEPOINT_SETTING_FLAG)
#undef CHOKEPOINT_SETTING_FLAG
    if (!error.empty()) return false;
    if (!known) {
      error = "unexpected argument " + quote(args[at]);
      return false;
    }
  }
  return true;
}

std::string run_help() {
  std::string out =
      "usage: chokepoint [run] [--config FILE] [options]\n"
      "\n"
      "Serves the policy of FILE (default: the built-in Deep Security catalog). Every option\n"
      "is also a key under `settings:` in the config file; a flag wins over the file.\n"
      "\n";
  const auto line = [&out](std::string left, std::string_view text) {
    out += "  " + left;
    out += left.size() + 2 < kHelpColumn ? std::string(kHelpColumn - 2 - left.size(), ' ')
                                         : "\n" + std::string(kHelpColumn, ' ');
    out += wrap(text, kHelpColumn, kHelpWidth) + "\n";
  };
  line("--config FILE", "the policy and, under `settings:`, these options");
  for (const SettingInfo& s : kSettingInfo) {
    // kGlue keeps a label and its value on one line; it becomes a space.
    std::string text(s.help);
    text += " [settings:" + std::string(1, kGlue) + std::string(s.yaml_key);
    if (!s.default_text.empty() && !s.is_switch)
      text += ";" + std::string(1, kGlue) + "default" + std::string(1, kGlue) +
              std::string(s.default_text);
    text += "]";
    line(flag_with_value(s), text);
  }
  line("--help, -h", "this text");
  std::replace(out.begin(), out.end(), kGlue, ' ');
  return out;
}

std::string run_usage() {
  std::string out = "usage: chokepoint [run] [--config FILE] [options]; options:";
  std::size_t column = out.size();
  for (const SettingInfo& s : kSettingInfo) {
    const std::string flag = std::string(s.flag);
    if (column + 1 + flag.size() > kHelpWidth) {
      out += "\n ";
      column = 1;
    }
    out += " " + flag;
    column += 1 + flag.size();
  }
  return out + "\n(chokepoint run --help says what each does)\n";
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
