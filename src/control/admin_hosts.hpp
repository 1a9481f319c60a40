// Private to the admin endpoint: which requests it answers. A browser on
// the proxy's host can be made to reach 127.0.0.1:9090 under a name an
// attacker controls (DNS rebinding), and then reads what the endpoint
// answers as that name's origin; a page of any origin can send it a POST.
// So the endpoint answers only requests whose Host is one of its own names,
// and takes state-changing requests only from its own origin.
//
// Its own names: `localhost`, 127.0.0.1, [::1], the address the request
// arrived at (the accepted socket's local address: the bound address, or
// for a wildcard bind the address the client used, such as the pod IP a
// Kubernetes probe sends), and the machine's host name. The port is not
// compared: no attacker can give a page one of these names, while port
// forwards (kubectl port-forward 8080:9090, ssh -L) change the port a
// browser shows. A request without Host (HTTP/1.0) comes from no browser
// and is answered.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/core/ip.hpp>

namespace chokepoint::control {

class AdminHosts {
 public:
  // `machine_name`: the host name (gethostname), or empty.
  explicit AdminHosts(std::string_view machine_name);

  // Whether `host` (the Host header's value; nullopt when absent) names
  // this endpoint for a request that arrived at `local`.
  bool own(std::optional<std::string_view> host, const IpAddress& local) const;

  // Whether a state-changing request with these headers comes from no
  // foreign page: no Origin header, or the origin `http://HOST` of the
  // request's own Host (scheme, name and port compared). "null" is foreign.
  static bool same_origin(std::optional<std::string_view> origin,
                          std::optional<std::string_view> host);

 private:
  std::string machine_name_;  // normalised; empty when unusable
};

}  // namespace chokepoint::control
