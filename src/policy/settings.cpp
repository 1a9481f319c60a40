#include <chokepoint/policy/settings.hpp>

namespace chokepoint::policy {
namespace {

template <class T>
void take(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

template <class T>
void take(std::vector<T>& into, const std::vector<T>& from) {
  if (!from.empty()) into = from;
}

}  // namespace

void Settings::override_with(const Settings& other) {
  take(listen, other.listen);
  take(transparent, other.transparent);
  take(tproxy, other.tproxy);
  take(sni_listen, other.sni_listen);
  take(sni_port, other.sni_port);
  take(timeouts.peek, other.timeouts.peek);
  take(limits.peek_bytes, other.limits.peek_bytes);
  take(audit_log, other.audit_log);
  take(syslog, other.syslog);
  take(syslog_ca, other.syslog_ca);
  take(admin, other.admin);
  take(admin_enabled, other.admin_enabled);
  take(admin_public, other.admin_public);
  take(user, other.user);
  take(timeouts.drain, other.timeouts.drain);
  take(connect_to, other.connect_to);
  take(threads, other.threads);
  take(users_file, other.users_file);
  take(auth_realm, other.auth_realm);
  take(relay, other.relay);
  take(timeouts.request_head, other.timeouts.request_head);
  take(timeouts.dns, other.timeouts.dns);
  take(timeouts.connect, other.timeouts.connect);
  take(timeouts.idle, other.timeouts.idle);
  take(limits.max_connections, other.limits.max_connections);
  take(limits.max_connections_per_client, other.limits.max_connections_per_client);
  take(limits.max_pending_heads, other.limits.max_pending_heads);
  take(limits.max_buffer_memory, other.limits.max_buffer_memory);
  take(dns.servers, other.dns.servers);
  take(dns.min_ttl, other.dns.min_ttl);
  take(dns.max_ttl, other.dns.max_ttl);
  take(dns.negative_ttl, other.dns.negative_ttl);
  take(dns.stale_for, other.dns.stale_for);
  take(dns.cache_size, other.dns.cache_size);
}

}  // namespace chokepoint::policy
