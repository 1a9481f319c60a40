#include <csignal>
#include <iostream>
#include <sys/resource.h>
#include <unistd.h>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/app/privileges.hpp>
#include <chokepoint/config/flags.hpp>
#include <chokepoint/control/controller.hpp>
#include <chokepoint/proxy/descriptor_budget.hpp>
#include <chokepoint/proxy/server.hpp>

namespace chokepoint::app {
namespace {

const char* describe(proxy::ListenerKind kind) {
  switch (kind) {
    case proxy::ListenerKind::Explicit:
      return "explicit proxy";
    case proxy::ListenerKind::Transparent:
      return "transparent";
    case proxy::ListenerKind::Sni:
      return "sni";
    case proxy::ListenerKind::Tproxy:
      return "transparent, tproxy";
    case proxy::ListenerKind::Socks:
      return "socks";
  }
  return "";
}

// Every tunnel holds two sockets and, while bytes move, two pipes: the
// default soft limit (1024) would cap the proxy near 250 tunnels. Returns
// the limit in force.
std::size_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) (void)::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<std::size_t>(limit.rlim_cur);
}

std::vector<std::unique_ptr<audit::Sink>> make_sinks(const config::Settings& settings,
                                                     std::string& error) {
  std::vector<std::unique_ptr<audit::Sink>> sinks;
  if (settings.audit_log != "none") {
    auto file = audit::make_file_sink(settings.audit_log, error);
    if (!file) return {};
    sinks.push_back(std::move(file));
  }
  for (SyslogTarget target : settings.syslog) {
    if (target.transport == SyslogTarget::Transport::Tls && !settings.syslog_ca.empty())
      target.ca_file = settings.syslog_ca;
    sinks.push_back(audit::make_syslog_sink(target, audit::SyslogOptions{}));
  }
  return sinks;
}

std::string sink_names(const audit::AuditLog& audit) {
  std::string names;
  for (const auto& sink : audit.sinks())
    names += (names.empty() ? "" : ", ") + sink.name;
  return names.empty() ? "nowhere (--audit-log none)" : names;
}

int run(const Words& words) {
  config::RunFlags flags;
  if (const auto exit = read_args(config::run_command_line(), words, flags)) return *exit;
  std::string error;
  const std::string& config_path = flags.config_path;

  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  const config::Settings settings = config::resolve(config->settings, flags.settings);
  const std::string policy_source =
      config_path.empty() ? std::string(policy::kBuiltinCatalogName) : config_path;
  const std::string sha256 = config->policy.sha256;
  auto built = policy::Snapshot::build(std::move(config->policy.policy));
  print_diagnostics(built.diagnostics(), std::cerr);
  if (!built) return kExitUsage;
  const auto snapshot = built.value();
  proxy::ProxyOptions options(settings);
  // The proxy refuses (503 and a record) before the kernel refuses it a
  // descriptor: the connection limit follows the descriptor limit unless
  // the operator set one.
  const std::size_t descriptors = raise_descriptor_limit();
  const proxy::DescriptorBudget budget = proxy::descriptor_budget(descriptors, options.threads);
  options.idle_pipes_per_thread = budget.idle_pipes_per_thread;
  if (!settings.given(config::SettingId::max_connections))
    options.max_connections = budget.max_connections;

  std::unique_ptr<auth::Authenticator> authenticator;
  if (!options.users_file.empty()) {
    auto users = auth::load_users(options.users_file);
    print_diagnostics(users.diagnostics(), std::cerr);
    if (!users) return kExitUsage;
    auth::AuthOptions auth_options;
    auth_options.threads = options.threads;
    authenticator = std::make_unique<auth::Authenticator>(std::move(users).value(), auth_options);
  }

  auto sinks = make_sinks(settings, error);
  if (!error.empty()) {
    std::cerr << "chokepoint: " << error << '\n';
    return kExitUsage;
  }
  // One queue per I/O thread, and one for the control plane's background
  // probes.
  audit::AuditLog audit(audit::AuditLog::Options{options.threads + 1}, std::move(sinks));

  // A peer that goes away mid-splice must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  proxy::Server server(options, snapshot, audit, std::move(authenticator));
  control::ControlOptions control_options = control::ControlOptions::from(settings, config_path);
  control_options.audit_producer = options.threads;
  control::Controller controller(server, audit, std::move(control_options),
                                 control::RunningPolicy::started(policy_source, sha256, snapshot));
  if (!server.bind(error) || !controller.start(error)) {
    std::cerr << "chokepoint: " << error << '\n';
    audit.stop();
    return kExitUsage;
  }
  const bool root = running_as_root();
  if (!drop_privileges(settings.user, error)) {
    std::cerr << "chokepoint: dropping privileges: " << error << '\n';
    audit.stop();
    return kExitUsage;
  }

  for (const auto& listener : server.bound()) {
    std::cerr << "chokepoint: listening on " << listener.endpoint.to_string() << " ("
              << describe(listener.kind) << ")\n";
  }
  if (const auto admin = controller.admin_endpoint()) {
    std::cerr << "chokepoint: admin on http://" << admin->to_string()
              << " (/ /metrics /healthz /readyz /policy /connections /dns /probe, POST /reload)\n";
  }
  if (root && settings.user.empty()) {
    std::cerr << "chokepoint: running as root without capabilities; --user NAME drops to an "
                 "unprivileged user after binding\n";
  }
  std::cerr << "chokepoint: policy " << policy_source << " (" << snapshot->policy().rules.size()
            << " rules, mode " << policy::to_string(snapshot->policy().mode) << "), "
            << options.threads << " threads, audit to " << sink_names(audit) << std::endl;

  server.start();
  controller.run();
  audit.stop();
  std::cerr << "chokepoint: stopped; " << audit.queued_total() << " audit records, " << audit.lost()
            << " lost" << std::endl;
  return kExitOk;
}

}  // namespace

// Its table, for `chokepoint help` and the dispatcher.
static const config::CommandInfo& info() {
  return config::run_command_line().info();
}

const Command kRunCommand{&info, &run};

}  // namespace chokepoint::app
