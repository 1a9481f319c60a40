// Every process setting, declared once. DESIGN.md, "Command line": each is a
// key under `settings:` in the config file and a flag of `chokepoint run`, and
// a flag wins. From this table come the resolved config::Settings (and so the
// fields of proxy::ProxyOptions), the YAML reader, the flag parser, the text
// of `chokepoint run --help` and README.md's option table (a unit test fails
// when the README's table differs from this one).
//
// One row per setting:
//   X(field, Kind, "yaml.key", "--flag", "default", check, "METAVAR", "help")
//   field     the member of config::Settings
//   Kind      how it is written and what it becomes (config/setting_kinds.hpp)
//   yaml.key  under `settings:`; one dot nests it in a group (timeouts.idle)
//   --flag    of `chokepoint run`
//   default   written as an operator would write it, parsed by Kind at start-up
//             (empty: the Kind's empty value)
//   check     a rule the value must pass from either source (kNoCheck, Range{..})
//   METAVAR   what --help shows after the flag
//   help      one sentence for --help and the README
//
// Adding a setting is one row here; then read its field where it is used.
// Rows keep the order of the `settings:` reference in policy/README.md.
#pragma once

#include <chokepoint/config/setting_kinds.hpp>

// clang-format off
#define CHOKEPOINT_SETTINGS(X) \
  X(listen, EndpointList, "listen", "--listen", "127.0.0.1:3128", kNoCheck, "ADDR:PORT", \
    "explicit proxy listener; repeatable; the default applies only when no listener of any kind is given") \
  X(transparent, EndpointList, "transparent", "--transparent", "", kNoCheck, "ADDR:PORT", \
    "transparent listener for REDIRECT/DNAT (SO_ORIGINAL_DST); repeatable") \
  X(tproxy, EndpointList, "tproxy", "--tproxy", "", kNoCheck, "ADDR:PORT", \
    "transparent listener for TPROXY (IP_TRANSPARENT); repeatable") \
  X(sni_listen, EndpointList, "sni_listen", "--sni-listen", "", kNoCheck, "ADDR:PORT", \
    "listener for DNS-steered clients (host from SNI or Host); repeatable") \
  X(socks_listen, EndpointList, "socks_listen", "--socks-listen", "", kNoCheck, "ADDR:PORT", \
    "SOCKS4, 4a and 5 listener (CONNECT; RFC 1929 username/password against the users file); repeatable") \
  X(sni_port, Port, "sni_port", "--sni-port", "443", kNoCheck, "PORT", \
    "where SNI-listener TLS connections go (plain HTTP: 80)") \
  X(proxy_protocol_from, CidrList, "proxy_protocol.from", "--proxy-protocol-from", "", kNoCheck, "CIDR", \
    "load balancers whose connections must begin with a PROXY v1/v2 header naming the client (others must not send one); repeatable") \
  X(audit_log, Text, "audit_log", "--audit-log", "-", (NonEmpty{"a path, '-' or 'none'"}), "PATH|-|none", \
    "audit records as JSON lines: a file, '-' for stdout, or none; SIGUSR1 reopens") \
  X(syslog, SyslogList, "syslog", "--syslog", "", kNoCheck, "URL", \
    "SIEM destination udp|tcp|tls://HOST[:PORT][/json|/cef], port 514; repeatable") \
  X(audit_refuse, AuditOnFailure, "audit_on_failure", "--audit-on-failure", "continue", kNoCheck, "continue|refuse", \
    "when a sink cannot write (disk full, I/O error, full queue): keep serving and count the losses, or refuse new connections until it writes again") \
  X(syslog_ca, Text, "syslog_ca", "--syslog-ca", "", kNoCheck, "FILE", \
    "CA for tls:// syslog destinations (default: the system store)") \
  X(admin, OptionalEndpoint, "admin", "--admin", "127.0.0.1:9090", kNoCheck, "ADDR:PORT|none", \
    "admin endpoint (/ status page, /metrics, /healthz, /readyz, /policy, /connections, /dns, POST /reload)") \
  X(admin_public, Switch, "admin_public", "--admin-public", "false", kNoCheck, "", \
    "allow a non-loopback admin address") \
  X(user, Text, "user", "--user", "", kNoCheck, "NAME", \
    "started as root: become NAME after binding") \
  X(connect_to, ConnectToList, "connect_to", "--connect-to", "", kNoCheck, "HOST:PORT:ADDR:PORT", \
    "curl's semantics: dial that address instead, no DNS, no vetting; repeatable") \
  X(upstream_proxy, UpstreamProxyUrl, "upstream_proxy", "--upstream-proxy", "", kNoCheck, "http://[USER:PASS@]HOST:PORT", \
    "a parent proxy allowed connections go through (CONNECT by name); a rule's upstream_proxy overrides it, or says direct") \
  X(threads, Number<int>, "threads", "--threads", "", (Range{1, 256}), "N", \
    "I/O threads (default: one per core)") \
  X(users_file, Text, "users_file", "--users-file", "", kNoCheck, "FILE", \
    "proxy authentication's users (chokepoint passwd writes it)") \
  X(auth_realm, Text, "auth_realm", "--auth-realm", "chokepoint", (Without{'"'}), "TEXT", \
    "the realm of proxy authentication") \
  X(force_copy, RelayMode, "relay", "--relay", "auto", kNoCheck, "auto|copy", \
    "relay by splice (falling back to copy) or always by userspace copy") \
  X(head_timeout, Duration, "timeouts.request_head", "--head-timeout", "10s", kNoCheck, "D", \
    "the whole request head (durations: 500ms, 10s, 5m, 1h)") \
  X(dns_timeout, Duration, "timeouts.dns", "--dns-timeout", "5s", kNoCheck, "D", \
    "resolving a destination") \
  X(dns_servers, DnsServerList, "dns.servers", "--dns-server", "", kNoCheck, "ADDR[:PORT]", \
    "DNS server to ask instead of /etc/resolv.conf's (port 53 by default); repeatable") \
  X(dns_min_ttl, Duration, "dns.min_ttl", "--dns-min-ttl", "5s", kNoCheck, "D", \
    "answers are cached at least this long (a TTL of 0 costs a query pair per 5 s at most)") \
  X(dns_max_ttl, Duration, "dns.max_ttl", "--dns-max-ttl", "1h", kNoCheck, "D", \
    "answers are cached at most this long (how long a moved destination can go unseen)") \
  X(dns_negative_ttl, Duration, "dns.negative_ttl", "--dns-negative-ttl", "30s", kNoCheck, "D", \
    "NXDOMAIN and no-data answers are cached for their SOA minimum, at most this long") \
  X(dns_stale_for, Duration, "dns.stale_for", "--dns-stale-for", "", kNoCheck, "D", \
    "serve an expired answer this long while the DNS servers fail (default: never)") \
  X(dns_max_in_flight_per_client, Number<std::size_t>, "dns.max_in_flight_per_client", "--dns-max-in-flight-per-client", "64", kNoCheck, "N", \
    "names one client may have being resolved at once, of the 1024 the resolver sends at most; 0: no limit") \
  X(dns_cache_size, Number<std::size_t>, "dns.cache_size", "--dns-cache-size", "10000", kNoCheck, "N", \
    "names kept in the DNS cache (least recently used go first)") \
  X(connect_timeout, Duration, "timeouts.connect", "--connect-timeout", "10s", kNoCheck, "D", \
    "connecting to a destination") \
  X(idle_timeout, Duration, "timeouts.idle", "--idle-timeout", "15m", kNoCheck, "D", \
    "an open tunnel with no bytes either way; a rule's idle_timeout overrides it") \
  X(half_close_timeout, Duration, "timeouts.half_close", "--half-close-timeout", "60s", kNoCheck, "D", \
    "a tunnel one side of which has closed, with no bytes since; a rule's half_close_timeout overrides it") \
  X(peek_timeout, Duration, "timeouts.peek", "--peek-timeout", "5s", kNoCheck, "D", \
    "reading a ClientHello or first HTTP head (transparent, SNI and inside tunnels)") \
  X(drain_timeout, Duration, "timeouts.drain", "--drain-timeout", "30s", kNoCheck, "D", \
    "SIGTERM: how long open connections may finish") \
  X(probe_interval, Duration, "probe.interval", "--probe-interval", "", kNoCheck, "D", \
    "probe every concrete destination of the running policy in the background, each once per D: GET /probe, the status page, chokepoint_destination_up (default: off)") \
  X(probe_ca, Text, "probe.ca", "--probe-ca", "", kNoCheck, "FILE", \
    "the background probes verify certificates against these CAs instead of the system store") \
  X(max_connections, Number<std::size_t>, "limits.max_connections", "--max-connections", "", kNoCheck, "N", \
    "all connections (default: what the descriptor limit allows, two per tunnel plus a reserve); over a limit: 503, or a close in transparent mode; 0: no limit") \
  X(max_connections_per_client, Number<std::size_t>, "limits.max_connections_per_client", "--max-connections-per-client", "0", kNoCheck, "N", \
    "connections per client (see --client-prefix-v6); 0: no limit") \
  X(max_pending_heads, Number<std::size_t>, "limits.max_pending_heads", "--max-pending-heads", "4096", kNoCheck, "N", \
    "connections still reading a head or dialing; 0: no limit") \
  X(max_pending_heads_per_client, Number<std::size_t>, "limits.max_pending_heads_per_client", "--max-pending-heads-per-client", "256", kNoCheck, "N", \
    "one client's share of the pending heads; 0: no limit") \
  X(max_rate_per_client, Rate, "limits.max_rate_per_client", "--max-rate-per-client", "0", kNoCheck, "N/s", \
    "new connections per client (or proxy user), burst as many; over it: 429; 0: no limit") \
  X(client_prefix_v4, Number<int>, "limits.client_prefix_v4", "--client-prefix-v4", "32", (Range{8, 32}), "N", \
    "IPv4 clients in one /N count as one client for every per-client limit") \
  X(client_prefix_v6, Number<int>, "limits.client_prefix_v6", "--client-prefix-v6", "64", (Range{16, 128}), "N", \
    "IPv6 clients in one /N count as one client for every per-client limit (a host is usually given a /64)") \
  X(max_buffer_memory, Number<std::size_t>, "limits.max_buffer_memory", "--max-buffer-memory", "0", kNoCheck, "BYTES", \
    "relay buffers and pipes held by tunnels; 0: no limit") \
  X(peek_bytes, Number<std::size_t>, "limits.peek_bytes", "--peek-bytes", "16384", (Range{1024, 65536}), "N", \
    "bound on a peeked ClientHello")
// clang-format on
