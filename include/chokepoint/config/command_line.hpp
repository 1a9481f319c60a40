// One option parser for every command (DESIGN.md, "Command line"). A command
// declares its options as a table, one row per option; from that table come
// the parser, `chokepoint COMMAND --help`, the usage printed under an error,
// and the command's entry in `chokepoint help`. `run`'s rows are the settings
// table's (config/flags.hpp); the other commands' are in src/app/.
//
// Boost.Program_options reads the words: `--name VALUE` and `--name=VALUE`,
// switches, `--help` and `-h`, operands (positional arguments), and `--`
// before operands that begin with a dash. It never guesses an abbreviation.
// What a value means is the row's to say, and values are read in the order
// given: a repeatable option adds one item each time; any other, given twice,
// keeps the last.
//
// Errors are values: one sentence naming the option ("--threads must be 1 to
// 256", "--listen needs a value", "unexpected argument '--frob'"). Pure: no
// I/O; the caller prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <chokepoint/config/setting_kinds.hpp>

namespace chokepoint::config {

enum class Takes : std::uint8_t {
  Nothing,   // a switch: present or not
  One,       // one value; given twice, the last wins
  Each,      // repeatable: each time adds one value
  Operand,   // one positional argument
  Operands,  // positional arguments, any number
};

// A row of a command's table, without its type: what parsing and help need.
struct OptionInfo {
  OptionInfo(std::string name, std::string metavar, std::string help, Takes takes)
      : name(std::move(name)), metavar(std::move(metavar)), help(std::move(help)), takes(takes) {}

  std::string name;     // "--config"; for an operand, what help calls it ("HOST:PORT")
  std::string metavar;  // what help shows after the name ("FILE"); none for switches
  std::string help;     // one sentence
  Takes takes;
  std::string missing;  // not empty: the option is required, and this is the error without it
  int exclusive = 0;    // rows with the same non-zero number exclude one another
};

struct CommandInfo {
  CommandInfo(std::string name, std::string summary, std::string about = {},
              std::string synopsis = {})
      : name(std::move(name)),
        summary(std::move(summary)),
        about(std::move(about)),
        synopsis(std::move(synopsis)) {}

  std::string name;     // "explain"
  std::string summary;  // one line, for `chokepoint help`
  std::string about;    // the paragraph of --help; empty: the summary
  // What follows `chokepoint` in the usage line; empty: the name and every
  // row (generated). A declared synopsis leaves the rows out, so the usage
  // printed under an error lists their names after it.
  std::string synopsis;
  std::vector<OptionInfo> options;
};

// In help text, a space that wrapping keeps (a label and its value on one line).
inline constexpr char kNoBreak = '\x01';

// "explain [--config FILE] [--client IP | --user NAME | --role ROLE] HOST:PORT".
std::string synopsis(const CommandInfo& command);
// Printed under a usage error: the synopsis and where to read more.
std::string usage(const CommandInfo& command);
// `chokepoint COMMAND --help`: the synopsis, the paragraph, and every row.
std::string help_text(const CommandInfo& command);
// `chokepoint help`: each command's synopsis and summary.
std::string overview(const std::vector<const CommandInfo*>& commands);

// One value found on the command line: the row it belongs to, and its text
// ("" for a switch).
struct Occurrence {
  std::size_t row;
  std::string text;
};

struct Scan {
  bool help = false;  // --help or -h
  std::vector<Occurrence> found;
  std::string error;  // a usage error; then `found` is incomplete
};

// The words after the command's name, through Program_options: only the
// syntax (which row each word belongs to), no value read.
Scan scan(const CommandInfo& command, const std::vector<std::string>& words);
// What the rows' `missing` and `exclusive` say about what was found; empty
// when all is well.
std::string check_presence(const CommandInfo& command, const std::vector<Occurrence>& found);

// The outcome of reading a command line into a command's arguments.
struct Reading {
  bool help = false;  // --help or -h: print help_text() instead of running (nothing was read)
  std::string error;  // a usage error, naming the option; empty: the arguments are read
};

// Reads one value of a row into the command's arguments; false with `error`
// set (a sentence naming the option) when the text is not a valid value.
template <class Args>
using Store = std::function<bool(Args& args, const std::string& text, std::string& error)>;

template <class Args>
struct Option {
  OptionInfo info;
  Store<Args> store;

  // Required: `message` is the usage error without it ("missing --format").
  Option required(std::string message) && {
    info.missing = std::move(message);
    return std::move(*this);
  }
  // At most one of the rows marked with the same `group` may be given.
  Option exclusive(int group) && {
    info.exclusive = group;
    return std::move(*this);
  }
};

// A command's table, and the parser it makes.
template <class Args>
class CommandLine {
 public:
  CommandLine(CommandInfo info, std::vector<Option<Args>> options) : info_(std::move(info)) {
    for (auto& o : options) {
      info_.options.push_back(std::move(o.info));
      stores_.push_back(std::move(o.store));
    }
  }

  const CommandInfo& info() const { return info_; }

  // Reads `words` (those after the command's name) into `into`: first the
  // syntax, then each value in the order given, then what is required.
  Reading parse(const std::vector<std::string>& words, Args& into) const {
    Scan scanned = scan(info_, words);
    if (!scanned.error.empty() || scanned.help) return {scanned.help, std::move(scanned.error)};
    std::string error;
    for (const Occurrence& o : scanned.found) {
      if (!stores_[o.row](into, o.text, error)) return {false, std::move(error)};
    }
    return {false, check_presence(info_, scanned.found)};
  }

 private:
  CommandInfo info_;
  std::vector<Store<Args>> stores_;
};

namespace detail {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {
  using Item = T;
};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {
  using Item = T;
};

// `text` as a T: a string as written, a whole number as Number<T> reads it;
// then `check` (setting_kinds.hpp: kNoCheck, Range{..}).
template <class T, class Check>
bool read_value(const std::string& text, std::string_view name, const Check& check, T& out,
                std::string& error) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!check(text, name, error)) return false;
    out = text;
  } else {
    static_assert(std::is_integral_v<T>, "an option's value is a string or a whole number");
    auto value = Number<T>::parse(text, name, error);
    if (!value || !check(*value, name, error)) return false;
    out = *value;
  }
  return true;
}

}  // namespace detail

// A row `--name METAVAR` stored in `field` of the command's arguments. The
// field's type says how the option is taken: a bool is a switch (`metavar`
// unused); a std::vector is repeatable; a std::optional or a plain value
// takes one (a string as written, a whole number read by Number<T>). `check`
// is a rule every value must pass (setting_kinds.hpp: Range{8, 32}).
template <class Args, class Field, class Check = NoCheck>
Option<Args> option(std::string name, std::string metavar, std::string help, Field Args::*field,
                    Check check = {}) {
  using detail::read_value;
  Option<Args> o{{name, std::move(metavar), std::move(help), Takes::One}, {}};
  if constexpr (std::is_same_v<Field, bool>) {
    o.info.takes = Takes::Nothing;
    o.info.metavar.clear();
    o.store = [field](Args& args, const std::string&, std::string&) {
      args.*field = true;
      return true;
    };
  } else if constexpr (detail::IsVector<Field>::value) {
    o.info.takes = Takes::Each;
    o.store = [field, name, check](Args& args, const std::string& text, std::string& error) {
      typename detail::IsVector<Field>::Item item{};
      if (!read_value(text, name, check, item, error)) return false;
      (args.*field).push_back(std::move(item));
      return true;
    };
  } else if constexpr (detail::IsOptional<Field>::value) {
    o.store = [field, name, check](Args& args, const std::string& text, std::string& error) {
      typename detail::IsOptional<Field>::Item value{};
      if (!read_value(text, name, check, value, error)) return false;
      args.*field = std::move(value);
      return true;
    };
  } else {
    o.store = [field, name, check](Args& args, const std::string& text, std::string& error) {
      return read_value(text, name, check, args.*field, error);
    };
  }
  return o;
}

// An operand (a positional argument), `name` as help shows it: into a
// std::optional<std::string> it is one; into a std::vector<std::string>, any
// number (help shows NAME...).
template <class Args, class Field>
Option<Args> operand(std::string name, std::string help, Field Args::*field) {
  Option<Args> o{{std::move(name), "", std::move(help), Takes::Operand}, {}};
  if constexpr (detail::IsVector<Field>::value) {
    o.info.takes = Takes::Operands;
    o.store = [field](Args& args, const std::string& text, std::string&) {
      (args.*field).push_back(text);
      return true;
    };
  } else {
    o.info.takes = Takes::Operand;
    o.store = [field](Args& args, const std::string& text, std::string&) {
      args.*field = text;
      return true;
    };
  }
  return o;
}

}  // namespace chokepoint::config
