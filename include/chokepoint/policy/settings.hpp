// Process settings that may live in the config file beside the policy, under
// `settings:` (DESIGN.md: "every process setting also has a flag, and a flag
// wins"). Every field is optional here: unset means "take the flag, else the
// default" (app/run_options.hpp holds the defaults).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/core/syslog_target.hpp>

namespace chokepoint::policy {

struct Timeouts {
  std::optional<std::chrono::milliseconds> request_head;  // the whole head, not per read
  std::optional<std::chrono::milliseconds> dns;
  std::optional<std::chrono::milliseconds> connect;
  std::optional<std::chrono::milliseconds> idle;   // an open tunnel with no bytes either way
  std::optional<std::chrono::milliseconds> peek;   // reading a ClientHello or first HTTP head
  std::optional<std::chrono::milliseconds> drain;  // SIGTERM: how long open connections may finish
};

struct Limits {
  std::optional<std::size_t> max_connections;             // 0: no limit
  std::optional<std::size_t> max_connections_per_client;  // 0: no limit
  std::optional<std::size_t> max_pending_heads;           // 0: no limit
  std::optional<std::size_t> max_buffer_memory;  // bytes of relay buffers and pipes; 0: no limit
  std::optional<std::size_t> peek_bytes;         // bound on a peeked ClientHello (16 KiB .. 64 KiB)
};

// Name resolution (`dns:`; its timeout is `timeouts: {dns: ...}`).
struct DnsSettings {
  std::vector<Endpoint> servers;  // ADDR[:PORT], port 53 by default; empty: /etc/resolv.conf's
  std::optional<std::chrono::milliseconds> min_ttl;       // answers are kept at least this long
  std::optional<std::chrono::milliseconds> max_ttl;       // and at most this long
  std::optional<std::chrono::milliseconds> negative_ttl;  // NXDOMAIN/NODATA at most this long
  std::optional<std::chrono::milliseconds> stale_for;     // expired answers served while DNS fails
  std::optional<std::size_t> cache_size;                  // names kept
};

enum class RelayPath : std::uint8_t { Auto, Copy };

struct Settings {
  std::vector<Endpoint> listen;           // explicit proxy listeners
  std::vector<Endpoint> transparent;      // REDIRECT/DNAT listeners (SO_ORIGINAL_DST)
  std::vector<Endpoint> tproxy;           // TPROXY listeners (IP_TRANSPARENT)
  std::vector<Endpoint> sni_listen;       // SNI listeners (DNS-steered clients)
  std::optional<std::uint16_t> sni_port;  // upstream port of SNI-listener TLS connections
  std::optional<std::string> audit_log;   // a path, "-" for stdout, or "none"
  std::vector<SyslogTarget> syslog;       // SIEM destinations
  std::optional<std::string> syslog_ca;   // CA for tls:// syslog destinations
  std::optional<Endpoint> admin;          // the admin endpoint (default 127.0.0.1:9090)
  std::optional<bool> admin_enabled;      // false: `admin: none`
  std::optional<bool> admin_public;       // allow a non-loopback admin address
  std::optional<std::string> user;        // drop to this user after binding (when started as root)
  std::vector<ConnectTo> connect_to;
  std::optional<int> threads;
  std::optional<std::string> users_file;  // proxy auth: `chokepoint passwd` writes it
  std::optional<std::string> auth_realm;
  std::optional<RelayPath> relay;  // auto: splice, falling back to copy; copy: always copy
  Timeouts timeouts;
  Limits limits;
  DnsSettings dns;

  // Fields set in `other` replace those here (a later file, or the flags).
  void override_with(const Settings& other);
};

}  // namespace chokepoint::policy
