// Test helpers for the command line: run chokepoint's main in this process
// with the words a user would type, standard input given and standard output
// and error captured; and a scratch directory for the files a command reads
// or writes.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>

namespace chokepoint::test {

struct CliRun {
  int exit = -1;
  std::string out;
  std::string err;
};

// Standard input, for the length of a run, as a pipe holding `input`: what
// reads descriptor 0 (report's and learn's `-`) and what asks isatty() (no
// terminal here) see it, as they would under a shell's `<`.
class StdinPipe {
 public:
  explicit StdinPipe(const std::string& input) : saved_(::dup(STDIN_FILENO)) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    // Written whole before anyone reads: it must fit the pipe (64 KiB).
    REQUIRE(input.size() < 65536);
    REQUIRE(::write(fds[1], input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    ::close(fds[1]);
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
  }
  ~StdinPipe() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
  }
  StdinPipe(const StdinPipe&) = delete;
  StdinPipe& operator=(const StdinPipe&) = delete;

 private:
  int saved_;
};

// `words` after the program's name; `input` is standard input (descriptor 0
// and std::cin alike).
inline CliRun run_cli(std::vector<std::string> words, const std::string& input = "") {
  words.insert(words.begin(), "chokepoint");
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  argv.push_back(nullptr);

  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in(input);
  // Put the streams back whatever happens; a command that read to the end
  // leaves std::cin's state flags behind, so they are cleared too.
  struct Swap {
    std::streambuf* out;
    std::streambuf* err;
    std::streambuf* in;
    ~Swap() {
      std::cout.rdbuf(out);
      std::cerr.rdbuf(err);
      std::cin.rdbuf(in);
      std::cin.clear();
    }
  } swap{std::cout.rdbuf(out.rdbuf()), std::cerr.rdbuf(err.rdbuf()), std::cin.rdbuf(in.rdbuf())};
  std::cin.clear();
  const StdinPipe stdin_pipe(input);

  CliRun run;
  run.exit = app::main(static_cast<int>(words.size()), argv.data());
  std::cout.flush();
  std::cerr.flush();
  run.out = out.str();
  run.err = err.str();
  return run;
}

// What a failed expectation should show: the whole run.
inline std::string describe(const CliRun& run) {
  return "exit " + std::to_string(run.exit) + "\n--- stdout\n" + run.out + "--- stderr\n" + run.err;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A command line `command` refuses: the words after its name, and the start
// of the message (which may go on, with what a parser said).
struct UsageCase {
  std::vector<std::string> words;
  std::string message;
};

// Each case exits 2, prints nothing on stdout, and says on stderr
// "chokepoint NAME: MESSAGE..." and then the command's usage.
inline void check_usage_errors(const app::Command& command, const std::vector<UsageCase>& cases) {
  const config::CommandInfo& info = command.info();
  const std::string usage = config::usage(info);
  for (const UsageCase& c : cases) {
    std::vector<std::string> words = {info.name};
    words.insert(words.end(), c.words.begin(), c.words.end());
    const CliRun run = run_cli(words);
    INFO(describe(run));
    CHECK(run.exit == 2);
    CHECK(run.out.empty());
    CHECK(run.err.rfind("chokepoint " + info.name + ": " + c.message, 0) == 0);
    CHECK(run.err.size() >= usage.size());
    CHECK(run.err.compare(run.err.size() - std::min(run.err.size(), usage.size()), usage.size(),
                          usage) == 0);
  }
}

// A directory of its own, removed with everything in it at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "chokepoint-cli-XXXXXX");
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string path(const std::string& name) const { return (path_ / name).string(); }

  // Writes `text` to `name` (mode 0644: a config others could write is refused).
  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = path(name);
    std::ofstream(file) << text;
    std::filesystem::permissions(file, std::filesystem::perms(0644));
    return file;
  }

  std::string read(const std::string& name) const {
    std::ifstream in(path(name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::filesystem::path path_;
};

// A small policy: one rule per role, a deny, and clients by address.
inline constexpr const char* kSmallPolicy =
    "version: 1\n"
    "roles:\n"
    "  agent: {description: an agent}\n"
    "  manager: {description: the manager}\n"
    "default_role: agent\n"
    "clients:\n"
    "  - {cidr: 10.0.8.0/21, role: agent}\n"
    "  - {cidr: 10.0.0.5/32, role: manager}\n"
    "rules:\n"
    "  - {id: updates, roles: [agent], destinations: [updates.example.com]}\n"
    "  - {id: cloud, roles: [manager], ports: [443], destinations: ['*.cloud.example.com']}\n"
    "  - {id: blocked, action: deny, destinations: [bad.example.com]}\n";

}  // namespace chokepoint::test
