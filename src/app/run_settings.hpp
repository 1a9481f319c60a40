// `chokepoint run`: its flags, and the options the proxy and its control
// plane run with once the config file's settings and the flags are merged
// (a flag wins; DESIGN.md, "Command line").
#pragma once

#include <string>

#include <chokepoint/app/args.hpp>
#include <chokepoint/policy/settings.hpp>
#include <chokepoint/proxy/control.hpp>
#include <chokepoint/proxy/options.hpp>

namespace chokepoint::app {

// Prints `message` and the options; returns the usage exit code.
int run_usage(const std::string& message);

// Reads the flags into a Settings (so they override the file field by field).
bool read_run_flags(Args& args, std::string& config_path, policy::Settings& flags,
                    std::string& error);

proxy::ProxyOptions resolve_proxy_options(const policy::Settings& settings);
// The admin endpoint defaults to 127.0.0.1:9090; "none" turns it off.
proxy::ControlOptions resolve_control_options(const policy::Settings& settings,
                                              const std::string& config_path);

}  // namespace chokepoint::app
