// The kinds of listener a proxy runs (DESIGN.md, "Command line").
#pragma once

#include <cstdint>

namespace chokepoint::proxy {

enum class ListenerKind : std::uint8_t {
  Explicit,     // --listen: the proxy in Deep Security's settings (CONNECT, absolute-form)
  Transparent,  // --transparent: REDIRECT/DNAT, SO_ORIGINAL_DST
  Tproxy,       // --tproxy: TPROXY, IP_TRANSPARENT
  Sni,          // --sni-listen: DNS-steered clients, host from SNI or Host
  Socks,        // --socks-listen: SOCKS4, 4a and 5 on one port
};

}  // namespace chokepoint::proxy
