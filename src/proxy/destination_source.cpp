#include "destination_source.hpp"

#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {

std::unique_ptr<DestinationSource> make_source(ListenerKind kind,
                                               const ConnectionServices& services,
                                               const tcp::endpoint& listener) {
  switch (kind) {
    case ListenerKind::Explicit:
      return explicit_source(services.options);
    case ListenerKind::Transparent:
      return transparent_source(services.options, net::Interception::Redirect, listener);
    case ListenerKind::Tproxy:
      return transparent_source(services.options, net::Interception::Tproxy, listener);
    case ListenerKind::Sni:
      return sni_source(services.options);
    case ListenerKind::Socks:
      return socks_source(services.options, services.authenticator, services.thread);
  }
  return explicit_source(services.options);
}

}  // namespace chokepoint::proxy
