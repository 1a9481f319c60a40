#include "settings_reader.hpp"

namespace chokepoint::policy::detail {
namespace {

// A list of values that parse themselves (T::parse(text, &error)), each
// problem reported at its item.
template <class T>
std::vector<T> parsed_list(YamlReader& reader, const YAML::Node& node, std::string_view what) {
  std::vector<T> out;
  for (const auto& [text, item] : reader.scalar_list(node, what)) {
    std::string error;
    if (auto value = T::parse(text, &error)) {
      out.push_back(*value);
    } else {
      reader.error(item, std::string(what) + ": " + error);
    }
  }
  return out;
}

std::vector<Endpoint> endpoints(YamlReader& reader, const YAML::Node& node, std::string_view what) {
  return parsed_list<Endpoint>(reader, node, what);
}

DnsSettings read_dns(YamlReader& reader, const YAML::Node& node) {
  DnsSettings dns;
  for (const auto& [field, value] : reader.map_entries(
           node, "dns",
           {"servers", "min_ttl", "max_ttl", "negative_ttl", "stale_for", "cache_size"})) {
    const std::string& f = field.Scalar();
    if (f == "servers") {
      for (const auto& [text, item] : reader.scalar_list(value, "dns servers")) {
        std::string error;
        if (auto server = Endpoint::parse_with_default_port(text, 53, &error)) {
          dns.servers.push_back(*server);
        } else {
          reader.error(item, "dns servers: " + error);
        }
      }
    } else if (f == "cache_size") {
      dns.cache_size = reader.count(value, f);
    } else {
      const auto duration = reader.duration(value, f);
      if (f == "min_ttl") dns.min_ttl = duration;
      if (f == "max_ttl") {
        dns.max_ttl = duration;
        if (duration && dns.min_ttl && *duration < *dns.min_ttl)
          reader.error(value, "max_ttl is shorter than min_ttl");
      }
      if (f == "negative_ttl") dns.negative_ttl = duration;
      if (f == "stale_for") dns.stale_for = duration;
    }
  }
  return dns;
}

}  // namespace

Settings read_settings(YamlReader& reader, const YAML::Node& node) {
  Settings s;
  for (const auto& [key, value] : reader.map_entries(
           node, "settings",
           {"listen", "transparent", "tproxy", "sni_listen", "sni_port", "audit_log", "syslog",
            "syslog_ca", "admin", "admin_public", "user", "connect_to", "threads", "users_file",
            "auth_realm", "relay", "timeouts", "limits", "dns"})) {
    const std::string& k = key.Scalar();
    if (k == "listen") {
      s.listen = endpoints(reader, value, "listen");
    } else if (k == "transparent") {
      s.transparent = endpoints(reader, value, "transparent");
    } else if (k == "tproxy") {
      s.tproxy = endpoints(reader, value, "tproxy");
    } else if (k == "sni_listen") {
      s.sni_listen = endpoints(reader, value, "sni_listen");
    } else if (k == "sni_port") {
      const auto ports = reader.ports(value);
      if (ports && ports->size() == 1 && ports->front().first == ports->front().last) {
        s.sni_port = ports->front().first;
      } else if (ports) {
        reader.error(value, "sni_port is one port");
      }
    } else if (k == "audit_log") {
      s.audit_log = reader.scalar(value, "audit_log");
      if (s.audit_log && s.audit_log->empty())
        reader.error(value, "audit_log must be a path, '-' or 'none'");
    } else if (k == "syslog") {
      s.syslog = parsed_list<SyslogTarget>(reader, value, "syslog");
    } else if (k == "syslog_ca") {
      s.syslog_ca = reader.scalar(value, "syslog_ca");
    } else if (k == "admin") {
      const auto text = reader.scalar(value, "admin");
      std::string error;
      if (text == "none") {
        s.admin_enabled = false;
      } else if (auto endpoint = text ? Endpoint::parse(*text, &error) : std::nullopt) {
        s.admin = *endpoint;
        s.admin_enabled = true;
      } else if (text) {
        reader.error(value, "admin: " + error);
      }
    } else if (k == "admin_public") {
      s.admin_public = reader.boolean(value, "admin_public");
    } else if (k == "user") {
      s.user = reader.scalar(value, "user");
    } else if (k == "connect_to") {
      s.connect_to = parsed_list<ConnectTo>(reader, value, "connect_to");
    } else if (k == "threads") {
      const auto n = reader.count(value, "threads");
      if (n && (*n < 1 || *n > 256)) {
        reader.error(value, "threads must be 1 to 256");
      } else if (n) {
        s.threads = static_cast<int>(*n);
      }
    } else if (k == "users_file") {
      s.users_file = reader.scalar(value, "users_file");
    } else if (k == "auth_realm") {
      s.auth_realm = reader.scalar(value, "auth_realm");
      if (s.auth_realm && s.auth_realm->find('"') != std::string::npos) {
        reader.error(value, "auth_realm may not contain '\"'");
      }
    } else if (k == "relay") {
      const auto text = reader.scalar(value, "relay");
      if (text == "auto") {
        s.relay = RelayPath::Auto;
      } else if (text == "copy") {
        s.relay = RelayPath::Copy;
      } else if (text) {
        reader.error(value, "relay must be auto or copy, not '" + *text + "'");
      }
    } else if (k == "dns") {
      s.dns = read_dns(reader, value);
    } else if (k == "limits") {
      for (const auto& [field, field_value] :
           reader.map_entries(value, "limits",
                              {"max_connections", "max_connections_per_client", "max_pending_heads",
                               "max_buffer_memory", "peek_bytes"})) {
        const auto count = reader.count(field_value, field.Scalar());
        if (field.Scalar() == "max_connections") s.limits.max_connections = count;
        if (field.Scalar() == "max_connections_per_client")
          s.limits.max_connections_per_client = count;
        if (field.Scalar() == "max_pending_heads") s.limits.max_pending_heads = count;
        if (field.Scalar() == "max_buffer_memory") s.limits.max_buffer_memory = count;
        if (field.Scalar() == "peek_bytes") {
          if (count && (*count < 1024 || *count > 65536)) {
            reader.error(field_value, "peek_bytes must be 1024 to 65536");
          } else {
            s.limits.peek_bytes = count;
          }
        }
      }
    } else if (k == "timeouts") {
      for (const auto& [field, field_value] : reader.map_entries(
               value, "timeouts", {"request_head", "dns", "connect", "idle", "peek", "drain"})) {
        const std::string& f = field.Scalar();
        const auto duration = reader.duration(field_value, f);
        if (f == "request_head") s.timeouts.request_head = duration;
        if (f == "dns") s.timeouts.dns = duration;
        if (f == "connect") s.timeouts.connect = duration;
        if (f == "idle") s.timeouts.idle = duration;
        if (f == "peek") s.timeouts.peek = duration;
        if (f == "drain") s.timeouts.drain = duration;
      }
    }
  }
  return s;
}

}  // namespace chokepoint::policy::detail
