// The flags of `chokepoint run`, one per row of the settings table, read by
// the one option parser (config/command_line.hpp): `--flag VALUE` and
// `--flag=VALUE`; a switch takes no value; a repeatable flag adds one item
// each time. Besides the settings: `--config FILE`. `run --help` and
// README.md's option table come from the same rows.
#pragma once

#include <string>

#include <chokepoint/config/command_line.hpp>
#include <chokepoint/config/settings.hpp>

namespace chokepoint::config {

struct RunFlags {
  std::string config_path;  // --config; empty: the built-in catalog
  SettingsLayer settings;   // what the flags say
};

// `run`'s table: --config, then the settings table's rows in its order. A
// row's help ends with its `settings:` key and default, as --help shows them.
const CommandLine<RunFlags>& run_command_line();

// README.md's option table (Markdown), row for row the settings table.
std::string markdown_table();

}  // namespace chokepoint::config
