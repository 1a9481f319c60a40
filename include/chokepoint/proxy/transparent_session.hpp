// One connection redirected to a transparent listener (DESIGN.md: the
// chokepoint of a restricted VPC). The host comes from the TLS ClientHello's
// SNI (or, for plain HTTP, each request's Host header), the port from the
// original destination. The proxy dials by name: the vetted address the SNI
// resolves to, never the original destination blindly; with
// `original_destination: require-match` it also refuses a connection whose
// original destination is not among those addresses. A connection with
// neither SNI nor Host is decided on its original destination (CIDR rules).
//
// The peek is bounded in time and bytes; a client that stalls inside its
// hello is cut off and recorded.
#pragma once

#include <chokepoint/net/original_dst.hpp>
#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {

// `listener` is the transparent listener's own address: a connection whose
// original destination is that address was not redirected and is refused.
void start_transparent_session(Worker& worker, tcp::socket socket, net::Interception how,
                               const tcp::endpoint& listener, const tcp::endpoint& peer,
                               LimitVerdict admitted);

}  // namespace chokepoint::proxy
