#include "run_settings.hpp"

#include <charconv>
#include <iostream>
#include <thread>

#include <chokepoint/app/cli.hpp>
#include <chokepoint/core/duration.hpp>

namespace chokepoint::app {

int run_usage(const std::string& message) {
  std::cerr
      << "chokepoint run: " << message << "\n"
      << "options: --config FILE --listen ADDR:PORT --transparent ADDR:PORT --tproxy ADDR:PORT\n"
         "         --sni-listen ADDR:PORT --sni-port PORT\n"
         "         --audit-log PATH|-|none --connect-to HOST:PORT:ADDR:PORT --threads N "
         "--users-file "
         "FILE\n"
         "         --relay auto|copy --head-timeout D --dns-timeout D --connect-timeout D "
         "--idle-timeout D\n"
         "         --peek-timeout D --peek-bytes N  (D: 500ms, 10s, 5m, 1h)\n"
         "         --max-connections N --max-connections-per-client N --max-pending-heads N\n"
         "         --max-buffer-memory BYTES --drain-timeout D\n"
         "         --dns-server ADDR[:PORT] (repeatable) --dns-min-ttl D --dns-max-ttl D\n"
         "         --dns-negative-ttl D --dns-stale-for D --dns-cache-size N\n"
         "         --admin ADDR:PORT|none --admin-public --syslog URL --syslog-ca FILE --user "
         "NAME\n"
         "         (URL: udp|tcp|tls://HOST[:PORT][/json|/cef], repeatable)\n";
  return kExitUsage;
}

// Flags are read into a Settings so they override the file's field by field.
bool read_run_flags(Args& args, std::string& config_path, policy::Settings& flags,
                    std::string& error) {
  while (!args.done()) {
    auto duration = [&](std::optional<std::chrono::milliseconds>& into, const std::string& text,
                        const char* name) {
      into = parse_duration(text);
      if (!into) error = std::string(name) + ": bad duration '" + text + "'";
    };
    auto count = [&](std::optional<std::size_t>& into, const std::string& text, const char* name) {
      std::size_t value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        error = std::string(name) + ": expected a whole number, not '" + text + "'";
      }
      into = value;
    };
    if (auto v = args.option("--config", error)) {
      config_path = *v;
    } else if (auto listen = args.option("--listen", error)) {
      if (auto endpoint = Endpoint::parse(*listen, &error)) flags.listen.push_back(*endpoint);
    } else if (auto transparent = args.option("--transparent", error)) {
      if (auto endpoint = Endpoint::parse(*transparent, &error))
        flags.transparent.push_back(*endpoint);
    } else if (auto tproxy = args.option("--tproxy", error)) {
      if (auto endpoint = Endpoint::parse(*tproxy, &error)) flags.tproxy.push_back(*endpoint);
    } else if (auto sni = args.option("--sni-listen", error)) {
      if (auto endpoint = Endpoint::parse(*sni, &error)) flags.sni_listen.push_back(*endpoint);
    } else if (auto sni_port = args.option("--sni-port", error)) {
      std::uint16_t port = 0;
      if (parse_port(*sni_port, port) != HostError::None)
        error = "--sni-port: bad port '" + *sni_port + "'";
      flags.sni_port = port;
    } else if (auto peek = args.option("--peek-timeout", error)) {
      duration(flags.timeouts.peek, *peek, "--peek-timeout");
    } else if (auto peek_bytes = args.option("--peek-bytes", error)) {
      count(flags.limits.peek_bytes, *peek_bytes, "--peek-bytes");
      if (error.empty() && (*flags.limits.peek_bytes < 1024 || *flags.limits.peek_bytes > 65536)) {
        error = "--peek-bytes must be 1024 to 65536";
      }
    } else if (auto audit = args.option("--audit-log", error)) {
      flags.audit_log = *audit;
    } else if (auto rule = args.option("--connect-to", error)) {
      if (auto parsed = ConnectTo::parse(*rule, &error)) flags.connect_to.push_back(*parsed);
    } else if (auto threads = args.option("--threads", error)) {
      std::optional<std::size_t> n;
      count(n, *threads, "--threads");
      if (error.empty() && (*n < 1 || *n > 256)) error = "--threads must be 1 to 256";
      flags.threads = static_cast<int>(n.value_or(1));
    } else if (auto users = args.option("--users-file", error)) {
      flags.users_file = *users;
    } else if (auto relay = args.option("--relay", error)) {
      if (*relay == "auto") {
        flags.relay = policy::RelayPath::Auto;
      } else if (*relay == "copy") {
        flags.relay = policy::RelayPath::Copy;
      } else {
        error = "--relay must be auto or copy";
      }
    } else if (auto max = args.option("--max-connections", error)) {
      count(flags.limits.max_connections, *max, "--max-connections");
    } else if (auto per = args.option("--max-connections-per-client", error)) {
      count(flags.limits.max_connections_per_client, *per, "--max-connections-per-client");
    } else if (auto pending = args.option("--max-pending-heads", error)) {
      count(flags.limits.max_pending_heads, *pending, "--max-pending-heads");
    } else if (auto memory = args.option("--max-buffer-memory", error)) {
      count(flags.limits.max_buffer_memory, *memory, "--max-buffer-memory");
    } else if (auto drain = args.option("--drain-timeout", error)) {
      duration(flags.timeouts.drain, *drain, "--drain-timeout");
    } else if (auto admin = args.option("--admin", error)) {
      if (*admin == "none") {
        flags.admin_enabled = false;
      } else if (auto endpoint = Endpoint::parse(*admin, &error)) {
        flags.admin = *endpoint;
        flags.admin_enabled = true;
      }
    } else if (args.flag("--admin-public")) {
      flags.admin_public = true;
    } else if (auto syslog = args.option("--syslog", error)) {
      if (auto target = SyslogTarget::parse(*syslog, &error)) flags.syslog.push_back(*target);
    } else if (auto ca = args.option("--syslog-ca", error)) {
      flags.syslog_ca = *ca;
    } else if (auto user = args.option("--user", error)) {
      flags.user = *user;
    } else if (auto head = args.option("--head-timeout", error)) {
      duration(flags.timeouts.request_head, *head, "--head-timeout");
    } else if (auto dns = args.option("--dns-timeout", error)) {
      duration(flags.timeouts.dns, *dns, "--dns-timeout");
    } else if (auto server = args.option("--dns-server", error)) {
      if (auto endpoint = Endpoint::parse_with_default_port(*server, 53, &error))
        flags.dns.servers.push_back(*endpoint);
      if (!error.empty()) error = "--dns-server: " + error;
    } else if (auto min_ttl = args.option("--dns-min-ttl", error)) {
      duration(flags.dns.min_ttl, *min_ttl, "--dns-min-ttl");
    } else if (auto max_ttl = args.option("--dns-max-ttl", error)) {
      duration(flags.dns.max_ttl, *max_ttl, "--dns-max-ttl");
    } else if (auto negative = args.option("--dns-negative-ttl", error)) {
      duration(flags.dns.negative_ttl, *negative, "--dns-negative-ttl");
    } else if (auto stale = args.option("--dns-stale-for", error)) {
      duration(flags.dns.stale_for, *stale, "--dns-stale-for");
    } else if (auto size = args.option("--dns-cache-size", error)) {
      count(flags.dns.cache_size, *size, "--dns-cache-size");
    } else if (auto connect = args.option("--connect-timeout", error)) {
      duration(flags.timeouts.connect, *connect, "--connect-timeout");
    } else if (auto idle = args.option("--idle-timeout", error)) {
      duration(flags.timeouts.idle, *idle, "--idle-timeout");
    } else if (error.empty()) {
      error = "unexpected argument '" + args.peek() + "'";
    }
    if (!error.empty()) return false;
  }
  return true;
}

proxy::ProxyOptions resolve_proxy_options(const policy::Settings& s) {
  proxy::ProxyOptions o;
  o.listen = s.listen;
  o.transparent = s.transparent;
  o.tproxy = s.tproxy;
  o.sni_listen = s.sni_listen;
  if (s.sni_port) o.sni_port = *s.sni_port;
  // With no listener of any kind, the DESIGN.md default: explicit on 127.0.0.1:3128.
  if (o.listen.empty() && o.transparent.empty() && o.tproxy.empty() && o.sni_listen.empty()) {
    o.listen.push_back(*Endpoint::parse("127.0.0.1:3128"));
  }
  if (s.timeouts.peek) o.peek_timeout = *s.timeouts.peek;
  if (s.limits.peek_bytes) o.peek_bytes = *s.limits.peek_bytes;
  o.threads =
      s.threads.value_or(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  if (s.timeouts.request_head) o.head_timeout = *s.timeouts.request_head;
  if (s.timeouts.dns) o.dns_timeout = *s.timeouts.dns;
  o.dns_servers = s.dns.servers;
  if (s.dns.min_ttl) o.dns_min_ttl = *s.dns.min_ttl;
  if (s.dns.max_ttl) o.dns_max_ttl = *s.dns.max_ttl;
  if (s.dns.negative_ttl) o.dns_negative_ttl = *s.dns.negative_ttl;
  if (s.dns.stale_for) o.dns_stale_for = *s.dns.stale_for;
  if (s.dns.cache_size) o.dns_cache_size = *s.dns.cache_size;
  if (s.timeouts.connect) o.connect_timeout = *s.timeouts.connect;
  if (s.timeouts.idle) o.idle_timeout = *s.timeouts.idle;
  o.force_copy = s.relay == policy::RelayPath::Copy;
  if (s.limits.max_connections) o.max_connections = *s.limits.max_connections;
  if (s.limits.max_connections_per_client)
    o.max_connections_per_client = *s.limits.max_connections_per_client;
  if (s.limits.max_pending_heads) o.max_pending_heads = *s.limits.max_pending_heads;
  if (s.limits.max_buffer_memory) o.max_buffer_memory = *s.limits.max_buffer_memory;
  o.connect_to = s.connect_to;
  o.users_file = s.users_file.value_or("");
  if (s.auth_realm) o.auth_realm = *s.auth_realm;
  return o;
}

proxy::ControlOptions resolve_control_options(const policy::Settings& s,
                                              const std::string& config_path) {
  proxy::ControlOptions o;
  o.config_path = config_path;
  if (s.timeouts.drain) o.drain = *s.timeouts.drain;
  o.admin_explicit = s.admin.has_value();
  if (s.admin_enabled.value_or(true))
    o.admin = s.admin ? s.admin : Endpoint::parse("127.0.0.1:9090");
  o.admin_public = s.admin_public.value_or(false);
  return o;
}

}  // namespace chokepoint::app
