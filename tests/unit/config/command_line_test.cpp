// The one option parser (config/command_line.hpp) on a made-up command:
// both forms of a value, switches, repeats, operands and `--`, the usage
// errors and their wording, required and exclusive rows, and the help, usage
// and synopsis generated from the table.
#include <catch2/catch.hpp>

#include <chokepoint/config/command_line.hpp>

using namespace chokepoint::config;

namespace {

struct Args {
  std::string config;
  std::optional<std::string> role;
  std::optional<std::string> user;
  std::vector<std::string> tags;
  std::optional<int> group;
  std::size_t top = 20;
  bool dry_run = false;
  std::optional<std::string> target;
  std::vector<std::string> rest;
};

const CommandLine<Args>& table() {
  static const CommandLine<Args> line(
      {"try", "try things", "Tries things on TARGET; a paragraph long enough to wrap."},
      {option("--config", "FILE", "the policy", &Args::config),
       option("--role", "ROLE", "as this role", &Args::role).exclusive(1),
       option("--user", "NAME", "as this user", &Args::user).exclusive(1),
       option("--tag", "T", "a tag; repeatable", &Args::tags),
       option("--group", "PREFIX", "a prefix length", &Args::group, Range{8, 32}),
       option("--top", "N", "rows", &Args::top),
       option("--dry-run", "", "change nothing", &Args::dry_run),
       operand("TARGET", "what to try", &Args::target).required("missing TARGET"),
       operand("MORE", "more words", &Args::rest)});
  return line;
}

Args parsed(std::vector<std::string> words) {
  Args args;
  const Reading reading = table().parse(words, args);
  INFO(reading.error);
  REQUIRE(reading.error.empty());
  REQUIRE_FALSE(reading.help);
  return args;
}

std::string error_of(std::vector<std::string> words) {
  Args args;
  return table().parse(words, args).error;
}

}  // namespace

TEST_CASE("a value after the name or after '='", "[config][command_line]") {
  Args a = parsed({"--config", "a.yaml", "t"});
  CHECK(a.config == "a.yaml");
  CHECK(a.target == "t");
  a = parsed({"--config=b.yaml", "t"});
  CHECK(a.config == "b.yaml");
  // A value may itself contain '=' or begin with a dash.
  CHECK(parsed({"--config=x=y", "t"}).config == "x=y");
  CHECK(parsed({"--role", "-r", "t"}).role == "-r");
  // `--name=` and `--name ''` are both the empty value, for the row to judge.
  CHECK(parsed({"--role=", "t"}).role == "");
  CHECK(parsed({"--role", "", "t"}).role == "");
}

TEST_CASE("repeats: a list adds, anything else keeps the last", "[config][command_line]") {
  const Args a = parsed({"--tag", "x", "--config", "1", "t", "--tag=y", "--config=2"});
  CHECK(a.tags == std::vector<std::string>{"x", "y"});
  CHECK(a.config == "2");
  CHECK(a.target == "t");
}

TEST_CASE("switches, numbers and operands", "[config][command_line]") {
  Args a = parsed({"t"});
  CHECK_FALSE(a.dry_run);
  CHECK(a.top == 20);
  CHECK_FALSE(a.group);
  a = parsed({"--dry-run", "--group", "24", "--top=5", "t", "u", "v"});
  CHECK(a.dry_run);
  CHECK(a.group == 24);
  CHECK(a.top == 5);
  CHECK(a.target == "t");
  CHECK(a.rest == std::vector<std::string>{"u", "v"});
  // `-` is an operand (standard input); after `--`, so is everything.
  a = parsed({"-", "--", "--dry-run", "-x"});
  CHECK(a.target == "-");
  CHECK_FALSE(a.dry_run);
  CHECK(a.rest == std::vector<std::string>{"--dry-run", "-x"});
}

TEST_CASE("usage errors name the option", "[config][command_line]") {
  CHECK(error_of({"--frob", "t"}) == "unexpected argument '--frob'");
  CHECK(error_of({"t", "--frob=1"}) == "unexpected argument '--frob=1'");
  CHECK(error_of({"-x", "t"}) == "unexpected argument '-x'");
  // No abbreviations: `--conf` is not `--config`.
  CHECK(error_of({"--conf", "a", "t"}) == "unexpected argument '--conf'");
  CHECK(error_of({"t", "--config"}) == "--config needs a value");
  CHECK(error_of({"--dry-run=yes", "t"}) == "--dry-run takes no value");
  CHECK(error_of({"--group", "4", "t"}) == "--group must be 8 to 32");
  CHECK(error_of({"--group", "x", "t"}) == "--group: expected a whole number, not 'x'");
  CHECK(error_of({"--top", "-1", "t"}) == "--top: expected a whole number, not '-1'");
  CHECK(error_of({}) == "missing TARGET");
  CHECK(error_of({"--role", "a", "--user", "b", "t"}) == "give at most one of --role and --user");
  CHECK(error_of({"--role", "a", "--role", "b", "t"}).empty());
}

TEST_CASE("an operand too many is named", "[config][command_line]") {
  static const CommandLine<Args> one({"one", "one operand"},
                                     {operand("TARGET", "what", &Args::target)});
  Args args;
  CHECK(one.parse({"a", "b"}, args).error == "unexpected argument 'b'");
  static const CommandLine<Args> none({"none", "no operand"}, {});
  CHECK(none.parse({"a"}, args).error == "unexpected argument 'a'");
}

TEST_CASE("--help and -h, even without what is required", "[config][command_line]") {
  for (const std::vector<std::string>& words :
       {std::vector<std::string>{"--help"}, {"-h"}, {"--config", "x", "-h"}}) {
    Args args;
    const Reading reading = table().parse(words, args);
    CHECK(reading.help);
    CHECK(reading.error.empty());
  }
  Args args;
  CHECK(table().parse({"--help", "--frob"}, args).error == "unexpected argument '--frob'");
}

TEST_CASE("synopsis, usage and help come from the table", "[config][command_line]") {
  const CommandInfo& info = table().info();
  CHECK(synopsis(info) ==
        "try [--config FILE] [--role ROLE | --user NAME] [--tag T]... [--group PREFIX] [--top N] "
        "[--dry-run] TARGET [MORE...]");
  // Wrapped at 100 columns, under the command's name.
  CHECK(usage(info) ==
        "usage: chokepoint try [--config FILE] [--role ROLE | --user NAME] [--tag T]... [--group "
        "PREFIX]\n      [--top N] [--dry-run] TARGET [MORE...]\n"
        "(chokepoint try --help says what each does)\n");
  const std::string help = help_text(info);
  CHECK(help.rfind("usage: chokepoint try [--config FILE]", 0) == 0);
  CHECK(help.find("\n\nTries things on TARGET; a paragraph long enough to wrap.\n\n") !=
        std::string::npos);
  CHECK(help.find("\n  --group PREFIX                  a prefix length\n") != std::string::npos);
  CHECK(help.find("\n  --dry-run                       change nothing\n") != std::string::npos);
  CHECK(help.find("\n  MORE...                         more words\n") != std::string::npos);
  CHECK(help.find("\n  --help, -h                      this text\n") != std::string::npos);

  // A declared synopsis leaves the rows out; the usage then names them.
  const CommandLine<Args> declared(
      {"d", "declared", "", "d [options] TARGET"},
      {option("--config", "FILE", "", &Args::config), option("--dry-run", "", "", &Args::dry_run)});
  CHECK(usage(declared.info()) ==
        "usage: chokepoint d [options] TARGET; options: --config --dry-run\n"
        "(chokepoint d --help says what each does)\n");
}

TEST_CASE("help wraps at 100 columns and keeps glued words together", "[config][command_line]") {
  std::string long_help;
  for (int i = 0; i < 30; ++i)
    long_help += "word ";
  long_help += std::string("[settings:") + kNoBreak + "a.b]";
  const CommandLine<Args> line(
      {"w", "wraps"},
      {option("--a-very-long-option-name", "WITH-A-LONG-VALUE", long_help, &Args::config)});
  const std::string help = help_text(line.info());
  std::size_t start = 0;
  while (start < help.size()) {
    const auto end = help.find('\n', start);
    INFO(help.substr(start, end - start));
    CHECK(end - start <= 100);
    start = end + 1;
  }
  // The label reaches the text's column: the text starts on the next line.
  CHECK(help.find("  --a-very-long-option-name WITH-A-LONG-VALUE\n" + std::string(34, ' ') +
                  "word") != std::string::npos);
  CHECK(help.find("[settings: a.b]") != std::string::npos);
}

TEST_CASE("the overview lists each command's synopsis and summary", "[config][command_line]") {
  CommandInfo one("one", "does one thing");
  one.options.emplace_back("--file", "F", "", Takes::One);
  const CommandInfo other("other", "does the other thing");
  CHECK(overview({&one, &other}) ==
        "usage:\n  chokepoint one [--file F]\n      does one thing\n"
        "  chokepoint other\n      does the other thing\n");
}
