// Private to the probe module: a TLS handshake as a Deep Security agent
// makes it, on a connection the upstream stage opened. The name goes as SNI
// and must be in the certificate (an address must be in its SANs), the
// chain must lead to a trusted root; nothing is sent after the handshake.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/cancellation.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/probe/result.hpp>

namespace chokepoint::probe {

struct TlsCheck {
  Outcome outcome = Outcome::Ok;  // Ok, Tls, Certificate or Timeout
  std::string detail;
  std::string subject;  // the leaf the far end presented (RFC 2253), when it sent one
  std::string issuer;
};

// Takes `socket` (connected: to the destination, or a parent's tunnel to
// it) and closes it when done. Ends within `timeout`, or at once when
// `cancellation` is requested (then as a timeout).
asio::awaitable<TlsCheck> check_tls(tcp::socket socket, boost::asio::ssl::context& context,
                                    const Host& host, std::chrono::milliseconds timeout,
                                    Cancellation* cancellation);

}  // namespace chokepoint::probe
