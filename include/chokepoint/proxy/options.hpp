// Run-time options of the proxy, with the defaults of DESIGN.md and issue 3:
// the settings of the config file and the flags, resolved.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <chokepoint/core/endpoint.hpp>

namespace chokepoint::proxy {

using std::chrono::milliseconds;

struct ProxyOptions {
  std::vector<Endpoint> listen;       // explicit mode
  std::vector<Endpoint> transparent;  // REDIRECT/DNAT: SO_ORIGINAL_DST
  std::vector<Endpoint> tproxy;       // TPROXY: IP_TRANSPARENT
  std::vector<Endpoint>
      sni_listen;                // DNS-steered clients: host from SNI/Host, no original destination
  std::uint16_t sni_port = 443;  // where SNI-listener TLS connections go (plain HTTP: 80)
  int threads = 1;               // one io_context (and SO_REUSEPORT acceptor) per thread
  milliseconds head_timeout{10'000};  // the whole request head
  milliseconds dns_timeout{5'000};
  std::vector<Endpoint> dns_servers;  // --dns-server; empty: /etc/resolv.conf's
  // The shared DNS cache (net/dns_cache.hpp says why these defaults).
  milliseconds dns_min_ttl{5'000};
  milliseconds dns_max_ttl{3'600'000};
  milliseconds dns_negative_ttl{30'000};
  milliseconds dns_stale_for{0};
  std::size_t dns_cache_size = 10'000;
  milliseconds connect_timeout{10'000};
  milliseconds idle_timeout{900'000};       // open tunnels; rules may set their own (idle_timeout)
  milliseconds half_close_timeout{60'000};  // a tunnel one side of which has closed
  milliseconds upstream_keepalive{30'000};  // idle pooled upstream connections (plain HTTP)
  milliseconds peek_timeout{5'000};  // a ClientHello or first HTTP head, transparent and in tunnels
  std::size_t peek_bytes = 16 * 1024;          // bound on a peeked ClientHello
  std::size_t max_header_bytes = 16 * 1024;    // beyond: 431
  std::size_t max_connections = 65536;         // all connections; 0: no limit
  std::size_t max_connections_per_client = 0;  // per client address; 0: no limit
  std::size_t max_pending_heads = 4096;        // connections still reading a head or dialing
  // One client's share of them. A well-behaved client's heads take
  // milliseconds; 256 at once covers hundreds of agents behind one NAT
  // address, while one client reading heads slowly leaves 15/16 of the
  // budget to the others.
  std::size_t max_pending_heads_per_client = 256;
  double max_rate_per_client = 0;     // new connections per second (burst as many); 0: no limit
  std::size_t max_buffer_memory = 0;  // bytes of pipes and copy buffers held by tunnels; 0: none
  bool force_copy = false;            // relay by userspace copy instead of splice
  std::vector<ConnectTo> connect_to;
  std::string users_file;  // empty: no proxy authentication
  std::string auth_realm = "chokepoint";
};

}  // namespace chokepoint::proxy
