#include <csignal>
#include <iostream>
#include <sys/resource.h>
#include <unistd.h>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/app/commands.hpp>
#include <chokepoint/app/privileges.hpp>
#include <chokepoint/proxy/control.hpp>
#include <chokepoint/proxy/server.hpp>

#include "run_settings.hpp"

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
  }
  return "";
}

// Every tunnel holds two sockets and, while bytes move, two pipes: the
// default soft limit (1024) would cap the proxy near 250 tunnels.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::vector<std::unique_ptr<audit::Sink>> make_sinks(const policy::Settings& settings,
                                                     std::string& error) {
  std::vector<std::unique_ptr<audit::Sink>> sinks;
  const std::string path = settings.audit_log.value_or("-");
  if (path != "none") {
    auto file = audit::make_file_sink(path, error);
    if (!file) return {};
    sinks.push_back(std::move(file));
  }
  for (SyslogTarget target : settings.syslog) {
    if (target.transport == SyslogTarget::Transport::Tls && settings.syslog_ca)
      target.ca_file = *settings.syslog_ca;
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

}  // namespace

int run_command(Args& args) {
  std::string config_path;
  policy::Settings flags;
  std::string error;
  if (!read_run_flags(args, config_path, flags, error)) return run_usage(error);

  auto config = load_or_report(config_path, std::cerr);
  if (!config) return kExitUsage;
  config->settings.override_with(flags);
  const policy::Settings settings = config->settings;
  auto built = policy::Snapshot::build(std::move(*config));
  print_diagnostics(built.diagnostics(), std::cerr);
  if (!built) return kExitUsage;
  const auto snapshot = built.value();
  const proxy::ProxyOptions options = resolve_proxy_options(settings);

  std::unique_ptr<auth::Authenticator> authenticator;
  if (!options.users_file.empty()) {
    auto users = auth::load_users(options.users_file);
    print_diagnostics(users.diagnostics(), std::cerr);
    if (!users) return kExitUsage;
    authenticator =
        std::make_unique<auth::Authenticator>(std::move(users).value(), options.threads);
  }

  auto sinks = make_sinks(settings, error);
  if (!error.empty()) {
    std::cerr << "chokepoint: " << error << '\n';
    return kExitUsage;
  }
  audit::AuditLog audit(audit::AuditLog::Options{options.threads}, std::move(sinks));

  raise_descriptor_limit();
  // A peer that goes away mid-splice must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  proxy::Server server(options, snapshot, audit, std::move(authenticator));
  proxy::ControlOptions control = resolve_control_options(settings, config_path);
  control.users_file = options.users_file;
  proxy::Controller controller(server, audit, std::move(control), snapshot);
  if (!server.bind(error) || !controller.start(error)) {
    std::cerr << "chokepoint: " << error << '\n';
    audit.stop();
    return kExitUsage;
  }
  const bool root = running_as_root();
  if (!drop_privileges(settings.user.value_or(""), error)) {
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
              << " (/metrics /healthz /readyz /policy /connections, POST /reload)\n";
  }
  if (root && !settings.user) {
    std::cerr << "chokepoint: running as root without capabilities; --user NAME drops to an "
                 "unprivileged user after binding\n";
  }
  std::cerr << "chokepoint: policy "
            << (config_path.empty() ? std::string(policy::kBuiltinCatalogName) : config_path)
            << " (" << snapshot->policy().rules.size() << " rules, mode "
            << policy::to_string(snapshot->policy().mode) << "), " << options.threads
            << " threads, audit to " << sink_names(audit) << std::endl;

  server.start();
  controller.run();
  audit.stop();
  std::cerr << "chokepoint: stopped; " << audit.queued_total() << " audit records, " << audit.lost()
            << " lost" << std::endl;
  return kExitOk;
}

}  // namespace chokepoint::app
