// The flags of `chokepoint run` and its help, both from the settings table.
//
// `--flag VALUE` and `--flag=VALUE`; a switch takes no value; a repeatable
// flag adds one item each time. Besides the settings: `--config FILE` and
// `--help` (`-h`).
#pragma once

#include <string>
#include <vector>

#include <chokepoint/config/settings.hpp>

namespace chokepoint::config {

struct RunFlags {
  std::string config_path;  // --config; empty: the built-in catalog
  SettingsLayer settings;   // what the flags say
  bool help = false;        // --help or -h
};

// Reads the arguments after `run`. On the first bad one, returns false with
// `error` a sentence naming the flag ("--threads must be 1 to 256").
bool parse_run_flags(const std::vector<std::string>& args, RunFlags& flags, std::string& error);

// `chokepoint run --help`: every flag with its value, default, `settings:`
// key and meaning.
std::string run_help();

// The short usage printed under a flag error.
std::string run_usage();

// README.md's option table (Markdown), row for row the settings table.
std::string markdown_table();

}  // namespace chokepoint::config
