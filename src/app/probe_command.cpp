// `chokepoint probe`: tests, from where the proxy runs, every concrete
// destination the policy lets a role reach, as the proxy would take it
// (DESIGN.md, "Probing the path"); the probing is probe/'s, this file reads
// the command line and prints.
#include <iostream>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/config/setting_kinds.hpp>
#include <chokepoint/net/options.hpp>
#include <chokepoint/probe/prober.hpp>
#include <chokepoint/probe/render.hpp>
#include <chokepoint/probe/targets.hpp>

namespace chokepoint::app {
namespace {

struct ProbeArgs {
  std::string config_path;
  std::optional<std::string> role;
  std::optional<std::string> version;
  std::string format = "text";
  std::string ca_file;
  std::string timeout = "5s";
  std::string time_limit = "60s";
  std::vector<std::string> connect_to;
  std::vector<std::string> dns_servers;
};

const config::CommandLine<ProbeArgs>& command_line() {
  using config::option;
  static const config::CommandLine<ProbeArgs> line(
      {"probe", "test every destination a role may reach; exit 0 if all are reachable, 1 if not",
       "Resolves, vets, dials (directly or through the rule's parent proxy) and, on TLS ports, "
       "completes a verified TLS handshake with every concrete destination the policy lets the "
       "role reach, as the proxy would, then closes; wildcards, regexes and ranges are listed "
       "as not probed. Prints a table grouped by what would break, or JSON lines. Exits 0 when "
       "everything probed is reachable, 1 when something is not."},
      {option("--config", "FILE", "the policy and settings (default: the built-in catalog)",
              &ProbeArgs::config_path),
       option("--role", "ROLE",
              "the destinations of this role (default: the policy's default role)",
              &ProbeArgs::role),
       option("--version", "V", "only those for this agent version: 20, 20.0 or 20.0.1-1234",
              &ProbeArgs::version),
       option("--format", "text|json", "a table (default), or one JSON object per destination",
              &ProbeArgs::format),
       option("--ca", "FILE", "verify certificates against these CAs instead of the system store",
              &ProbeArgs::ca_file),
       option("--timeout", "D", "the longest each step may take: lookup, connect, TLS (default 5s)",
              &ProbeArgs::timeout),
       option("--time-limit", "D", "the longest the whole probe may take (default 60s)",
              &ProbeArgs::time_limit),
       option("--connect-to", "HOST:PORT:ADDR:PORT",
              "as run's: dial that address instead, no DNS, no vetting; repeatable",
              &ProbeArgs::connect_to),
       option("--dns-server", "ADDR[:PORT]",
              "DNS server to ask instead of /etc/resolv.conf's; repeatable",
              &ProbeArgs::dns_servers)});
  return line;
}

// The run settings the probe takes from the file, with its own flags over them.
std::optional<config::Settings> probe_settings(const config::SettingsLayer& file,
                                               const ProbeArgs& args,
                                               std::chrono::milliseconds timeout,
                                               std::string& error) {
  config::SettingsLayer flags;
  if (!args.connect_to.empty()) {
    flags.connect_to.emplace();
    for (const auto& text : args.connect_to) {
      auto item = config::ConnectToList::parse(text, "--connect-to", error);
      if (!item) return std::nullopt;
      flags.connect_to->push_back(std::move(*item));
    }
  }
  if (!args.dns_servers.empty()) {
    flags.dns_servers.emplace();
    for (const auto& text : args.dns_servers) {
      auto item = config::DnsServerList::parse(text, "--dns-server", error);
      if (!item) return std::nullopt;
      flags.dns_servers->push_back(std::move(*item));
    }
  }
  // One timeout for every step, whatever the file gives a running proxy.
  flags.dns_timeout = timeout;
  flags.connect_timeout = timeout;
  return config::resolve(file, flags);
}

int probe_command(const Words& words) {
  ProbeArgs args;
  if (const auto exit = read_args(command_line(), words, args)) return *exit;
  if (args.format != "text" && args.format != "json")
    return usage_error(command_line(), "--format must be text or json, not '" + args.format + "'");
  std::string error;
  const auto timeout = config::Duration::parse(args.timeout, "--timeout", error);
  if (!timeout) return usage_error(command_line(), error);
  const auto time_limit = config::Duration::parse(args.time_limit, "--time-limit", error);
  if (!time_limit) return usage_error(command_line(), error);
  if (timeout->count() <= 0 || time_limit->count() <= 0)
    return usage_error(command_line(), "--timeout and --time-limit must be more than 0");

  auto config = load_or_report(args.config_path, std::cerr);
  if (!config) return kExitUsage;
  auto built = policy::Snapshot::build(std::move(config->policy.policy));
  print_diagnostics(built.diagnostics(), std::cerr);
  if (!built) return kExitUsage;
  const policy::Snapshot& snapshot = *built.value();

  std::optional<Version> version;
  if (args.version) {
    version = Version::parse(*args.version);
    if (!version)
      return usage_error(command_line(),
                         "bad version '" + *args.version + "' (expected 20, 20.0 or 20.0.1-1234)");
  }
  int role = snapshot.policy().default_role;
  if (args.role) {
    role = snapshot.policy().find_role(*args.role);
    if (role < 0 && *args.role != "any")
      return usage_error(command_line(), "unknown role '" + *args.role + "'");
    if (role < 0) role = policy::kAnyRole;
  }
  const policy::ClientIdentity client = snapshot.identity_for(role, version);

  const auto settings = probe_settings(config->settings, args, *timeout, error);
  if (!settings) return usage_error(command_line(), error);
  auto tls = probe::client_tls_context(args.ca_file, error);
  if (!tls) return usage_error(command_line(), error);

  const proxy::ProxyOptions options(*settings);
  asio::io_context io;
  net::DnsCache cache(net::dns_cache_options(options));
  std::optional<net::Resolver> resolver;
  try {
    resolver.emplace(io, cache, net::resolver_options(options));
  } catch (const std::exception& e) {
    std::cerr << "chokepoint probe: " << e.what() << '\n';
    return kExitUsage;
  }
  net::Dialer dialer(*resolver, options.connect_to, net::dial_options(options));

  probe::ProbeOptions probe_options;
  probe_options.step_timeout = *timeout;
  probe_options.time_limit = *time_limit;
  const auto started = std::chrono::steady_clock::now();
  probe::ProbeRun run;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        run = co_await probe::probe_all(dialer, options, snapshot, client, *tls,
                                        probe::targets(snapshot, client), probe_options);
        // Lookups abandoned by the time limit may still be waiting for an
        // answer; nothing needs them now.
        io.stop();
      },
      asio::detached);
  io.run();

  bool failed = run.out_of_time;
  for (const auto& r : run.results)
    failed = failed || probe::is_failure(r.outcome);
  if (args.format == "json") {
    for (const auto& r : run.results)
      std::cout << probe::json_line(r) << '\n';
  } else {
    probe::RunFacts facts;
    facts.who =
        "role " + snapshot.role_label(client) + (version ? " version " + version->to_string() : "");
    facts.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    facts.time_limit = *time_limit;
    facts.out_of_time = run.out_of_time;
    std::cout << probe::render_text(run.results, facts);
  }
  std::cout.flush();
  return failed ? kExitDenied : kExitOk;
}

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return command_line().info();
}

const Command kProbeCommand{&info, &probe_command};

}  // namespace chokepoint::app
