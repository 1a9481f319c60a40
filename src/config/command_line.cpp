#include <algorithm>
#include <map>

#include <boost/program_options.hpp>

#include <chokepoint/config/command_line.hpp>
#include <chokepoint/core/diagnostic.hpp>

namespace chokepoint::config {
namespace {

namespace po = boost::program_options;

constexpr std::size_t kHelpColumn = 34;
constexpr std::size_t kHelpWidth = 100;

// Long options with a value after `=` or in the next word; `-h` alone. No
// guessing (`--list` is not `--listen`), no grouped short options.
constexpr int kStyle =
    po::command_line_style::allow_long | po::command_line_style::long_allow_adjacent |
    po::command_line_style::long_allow_next | po::command_line_style::allow_short |
    po::command_line_style::allow_dash_for_short | po::command_line_style::short_allow_next;

bool is_operand(const OptionInfo& o) {
  return o.takes == Takes::Operand || o.takes == Takes::Operands;
}

// `--name=` with nothing after the sign: Program_options refuses it
// (empty_adjacent_parameter), where `--name ''` is the empty value. Both are
// the empty value here, so that the row says whether it is valid
// (`--upstream-proxy=` clears the file's parent proxy, `--audit-log=` is
// refused for what it is). Everything else is left to Program_options.
std::vector<po::option> empty_value(std::vector<std::string>& words) {
  std::vector<po::option> out;
  const std::string& word = words.front();
  if (word.size() > 3 && word.compare(0, 2, "--") == 0 && word.find('=') == word.size() - 1) {
    po::option o;
    o.string_key = word.substr(2, word.size() - 3);
    o.value.emplace_back();
    o.original_tokens.push_back(word);
    out.push_back(std::move(o));
    words.erase(words.begin());
  }
  return out;
}

// The syntax errors Program_options throws, as sentences naming the option.
std::string syntax_error(const po::invalid_command_line_syntax& e) {
  switch (e.kind()) {
    case po::invalid_syntax::missing_parameter:
      return e.get_option_name() + " needs a value";
    case po::invalid_syntax::extra_parameter:
      return e.get_option_name() + " takes no value";
    default:
      return e.what();
  }
}

// `text`, starting at `column`, wrapped to `width` columns, every line after
// the first indented to `indent`; kNoBreak keeps two words on one line and
// becomes a space.
std::string wrap(std::string_view text, std::size_t column, std::size_t indent, std::size_t width) {
  std::string out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (!out.empty() && column + 1 + word.size() > width) {
      out += '\n' + std::string(indent, ' ');
      column = indent;
    } else if (!out.empty()) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
  }
  std::replace(out.begin(), out.end(), kNoBreak, ' ');
  return out;
}

// One row of --help: the label, then the text from kHelpColumn on (on the
// next line when the label reaches it).
std::string help_line(const std::string& label, std::string_view text) {
  std::string out = "  " + label;
  out += label.size() + 2 < kHelpColumn ? std::string(kHelpColumn - 2 - label.size(), ' ')
                                        : "\n" + std::string(kHelpColumn, ' ');
  return out + wrap(text, kHelpColumn, kHelpColumn, kHelpWidth) + "\n";
}

// How a row is written: `--config FILE`, `--admin-public`, `HOST:PORT`,
// `AUDIT...`; `space` goes between a name and its value.
std::string label(const OptionInfo& o, char space = ' ') {
  switch (o.takes) {
    case Takes::Nothing:
    case Takes::Operand:
      return o.name;
    case Takes::One:
    case Takes::Each:
      return o.name + space + o.metavar;
    case Takes::Operands:
      return o.name + "...";
  }
  return o.name;
}

// The synopsis with a row's name and value glued (kNoBreak), so that
// wrapping never parts them.
std::string glued_synopsis(const CommandInfo& command) {
  if (!command.synopsis.empty()) return command.synopsis;
  std::string out = command.name;
  const auto& options = command.options;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const OptionInfo& o = options[i];
    std::string part = label(o, kNoBreak);
    if (o.exclusive != 0) {
      // The group is written once, where its first row is.
      const auto first = std::find_if(options.begin(), options.end(), [&](const OptionInfo& x) {
        return x.exclusive == o.exclusive;
      });
      if (&*first != &o) continue;
      for (std::size_t j = i + 1; j < options.size(); ++j) {
        if (options[j].exclusive == o.exclusive) part += " | " + label(options[j], kNoBreak);
      }
    }
    if (o.missing.empty() || o.exclusive != 0) part = "[" + part + "]";
    if (o.takes == Takes::Each) part += "...";
    out += " " + part;
  }
  return out;
}

// "usage: chokepoint SYNOPSIS", wrapped under the command's name.
std::string usage_line(const CommandInfo& command) {
  return wrap("usage: chokepoint " + glued_synopsis(command), 0, 6, kHelpWidth);
}

}  // namespace

Scan scan(const CommandInfo& command, const std::vector<std::string>& words) {
  po::options_description known;
  std::map<std::string, std::size_t, std::less<>> rows;  // Program_options' key -> row
  std::vector<std::size_t> operands;
  for (std::size_t i = 0; i < command.options.size(); ++i) {
    const OptionInfo& o = command.options[i];
    if (is_operand(o)) {
      operands.push_back(i);
      continue;
    }
    const std::string key = o.name.substr(2);  // without the dashes
    auto* value = po::value<std::string>();
    if (o.takes == Takes::Nothing) value->zero_tokens();
    known.add_options()(key.c_str(), value);
    rows.emplace(key, i);
  }
  known.add_options()("help,h", po::value<std::string>()->zero_tokens());

  Scan out;
  po::parsed_options parsed(&known);
  try {
    // Unknown options come back marked, so that the error names the word.
    parsed = po::command_line_parser(words)
                 .options(known)
                 .style(kStyle)
                 .allow_unregistered()
                 .extra_style_parser(&empty_value)
                 .run();
  } catch (const po::invalid_command_line_syntax& e) {
    out.error = syntax_error(e);
    return out;
  } catch (const po::error& e) {
    out.error = e.what();
    return out;
  }

  // Operands fill the operand rows in order: one word for an Operand, every
  // word left for Operands. The words are assigned here rather than by a
  // positional_options_description, whose error for one too many does not
  // say which word it was.
  std::size_t next = 0;
  std::size_t taken = 0;
  for (const po::option& o : parsed.options) {
    if (o.unregistered) {
      out.error = "unexpected argument " + quote(o.original_tokens.front());
      return out;
    }
    const std::string text = o.value.empty() ? std::string() : o.value.front();
    if (o.string_key == "help") {
      out.help = true;
    } else if (!o.string_key.empty()) {
      out.found.push_back({rows.find(o.string_key)->second, text});
    } else {
      if (next < operands.size() && taken == 1 &&
          command.options[operands[next]].takes == Takes::Operand) {
        ++next;
        taken = 0;
      }
      if (next >= operands.size()) {
        out.error = "unexpected argument " + quote(text);
        return out;
      }
      out.found.push_back({operands[next], text});
      ++taken;
    }
  }
  return out;
}

std::string check_presence(const CommandInfo& command, const std::vector<Occurrence>& found) {
  const auto& options = command.options;
  std::vector<bool> given(options.size());
  for (const Occurrence& o : found)
    given[o.row] = true;
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (!options[i].missing.empty() && !given[i]) return options[i].missing;
  }
  for (std::size_t i = 0; i < options.size(); ++i) {
    const int group = options[i].exclusive;
    if (group == 0 || !given[i]) continue;
    for (std::size_t j = i + 1; j < options.size(); ++j) {
      if (options[j].exclusive != group || !given[j]) continue;
      std::vector<std::string> names;
      for (const OptionInfo& o : options) {
        if (o.exclusive == group) names.push_back(o.name);
      }
      std::string message = "give at most one of " + names.front();
      for (std::size_t n = 1; n < names.size(); ++n)
        message += (n + 1 == names.size() ? " and " : ", ") + names[n];
      return message;
    }
  }
  return {};
}

std::string synopsis(const CommandInfo& command) {
  std::string out = glued_synopsis(command);
  std::replace(out.begin(), out.end(), kNoBreak, ' ');
  return out;
}

std::string usage(const CommandInfo& command) {
  std::string out = usage_line(command);
  if (!command.synopsis.empty()) {
    // The declared synopsis leaves the rows out: name them.
    out += "; options:";
    std::size_t column = out.size() - std::min(out.size(), out.rfind('\n') + 1);
    for (const OptionInfo& o : command.options) {
      if (command.synopsis.find(label(o)) != std::string::npos) continue;
      if (column + 1 + o.name.size() > kHelpWidth) {
        out += "\n ";
        column = 1;
      }
      out += " " + o.name;
      column += 1 + o.name.size();
    }
  }
  return out + "\n(chokepoint " + command.name + " --help says what each does)\n";
}

std::string help_text(const CommandInfo& command) {
  std::string out =
      usage_line(command) + "\n\n" +
      wrap(command.about.empty() ? command.summary : command.about, 0, 0, kHelpWidth) + "\n\n";
  for (const OptionInfo& o : command.options)
    out += help_line(label(o), o.help);
  return out + help_line("--help, -h", "this text");
}

std::string overview(const std::vector<const CommandInfo*>& commands) {
  std::string out = "usage:\n";
  for (const CommandInfo* c : commands) {
    out += "  " + wrap("chokepoint " + glued_synopsis(*c), 2, 6, kHelpWidth) + "\n      " +
           wrap(c->summary, 6, 6, kHelpWidth) + "\n";
  }
  return out;
}

}  // namespace chokepoint::config
