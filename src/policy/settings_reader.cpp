#include "settings_reader.hpp"

namespace chokepoint::policy::detail {
namespace {

std::vector<Endpoint> endpoints(YamlReader& reader, const YAML::Node& node, std::string_view what) {
  std::vector<Endpoint> out;
  for (const auto& [text, item] : reader.scalar_list(node, what)) {
    std::string error;
    if (auto endpoint = Endpoint::parse(text, &error)) {
      out.push_back(*endpoint);
    } else {
      reader.error(item, std::string(what) + ": " + error);
    }
  }
  return out;
}

}  // namespace

Settings read_settings(YamlReader& reader, const YAML::Node& node) {
  Settings s;
  for (const auto& [key, value] :
       reader.map_entries(node, "settings",
                          {"listen", "audit_log", "connect_to", "threads", "users_file",
                           "auth_realm", "relay", "timeouts"})) {
    const std::string& k = key.Scalar();
    if (k == "listen") {
      s.listen = endpoints(reader, value, "listen");
    } else if (k == "audit_log") {
      s.audit_log = reader.scalar(value, "audit_log");
      if (s.audit_log && s.audit_log->empty())
        reader.error(value, "audit_log must be a path or '-'");
    } else if (k == "connect_to") {
      for (const auto& [text, item] : reader.scalar_list(value, "connect_to")) {
        std::string error;
        if (auto rule = ConnectTo::parse(text, &error)) {
          s.connect_to.push_back(*rule);
        } else {
          reader.error(item, "connect_to: " + error);
        }
      }
    } else if (k == "threads") {
      const auto text = reader.scalar(value, "threads");
      if (text) {
        int n = 0;
        for (char c : *text)
          n = (c >= '0' && c <= '9' && n < 1000) ? n * 10 + (c - '0') : -1;
        if (n < 1 || n > 256) {
          reader.error(value, "threads must be 1 to 256");
        } else {
          s.threads = n;
        }
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
    } else if (k == "timeouts") {
      for (const auto& [field, field_value] :
           reader.map_entries(value, "timeouts", {"request_head", "dns", "connect", "idle"})) {
        const std::string& f = field.Scalar();
        const auto duration = reader.duration(field_value, f);
        if (f == "request_head") s.timeouts.request_head = duration;
        if (f == "dns") s.timeouts.dns = duration;
        if (f == "connect") s.timeouts.connect = duration;
        if (f == "idle") s.timeouts.idle = duration;
      }
    }
  }
  return s;
}

}  // namespace chokepoint::policy::detail
