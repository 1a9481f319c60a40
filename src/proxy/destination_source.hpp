// Private to the proxy module: how a listener kind learns where its client
// wants to go (DESIGN.md, "Data flow": learn the destination). It is the
// only thing listener kinds differ in (with the record's mode and how a
// connection refused before its first exchange is told); deciding,
// vetting, dialing, answering and relaying are the session's, the same for
// all of them. A new listener kind is a source and its parser.
//
// A source reads from the client what it needs (a request head, a peeked
// ClientHello, a SOCKS request) and returns a plain value: where to, how it
// learned that, how to answer this client, and what it read beyond what it
// needed (left in the client's buffer: early data for the tunnel). It
// fills the record's facts (mode, host, sni, method, ...) as it learns them,
// and never writes a record: a refusal is a value too. It never answers the
// exchange either; it sends only what its protocol needs before the client
// has said where to (SOCKS5's method selection and credentials status).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/cancellation.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/http/head_reader.hpp>
#include <chokepoint/http/request_target.hpp>
#include <chokepoint/net/original_dst.hpp>
#include <chokepoint/proxy/listener.hpp>
#include <chokepoint/proxy/options.hpp>
#include <chokepoint/tls/client_hello.hpp>

#include "answer.hpp"
#include "client_connection.hpp"

namespace chokepoint::auth {
class Authenticator;
}

namespace chokepoint::proxy {

struct ConnectionServices;

struct Learned {
  enum class Outcome : std::uint8_t {
    Destination,  // go on to decide
    Refused,      // answer `refusal` and record it
    Gone,         // the client left between exchanges: nothing to record
    AutoConfig,   // GET /proxy.pac or /wpad.dat: the PAC file, no egress, no record
  };
  Outcome outcome = Outcome::Gone;
  audit::Reason refusal = audit::Reason::None;
  std::string detail;
  Language language = Language::Silent;  // how this client is answered
  // HTTP: another request may follow on this connection after this one's
  // answer (a refusal included).
  bool keep_alive = false;

  Host host;
  std::uint16_t port = 0;
  // A tunnel (bytes relayed as they are) or one plain HTTP request to forward.
  bool tunnel = true;
  // Path rules apply (plain HTTP only: a tunnel never shows a path).
  std::optional<std::string_view> path;
  // CONNECT and SOCKS: the first bytes inside the tunnel are a ClientHello
  // to check against the destination (domain fronting).
  bool check_tunnel_hello = false;
  // Transparent and SNI listeners: the hello the destination came from.
  const tls::ClientHelloInfo* hello = nullptr;
  // Transparent listeners: where the client was going (require-match).
  std::optional<tcp::endpoint> original_destination;
  // Explicit proxy with authentication: the Proxy-Authorization value.
  std::optional<std::string> authorization;
  // A user the source authenticated itself (SOCKS5 username/password).
  std::string user;
  // AutoConfig: the Host the client fetched the file with, and whether it
  // asked with HEAD.
  std::string pac_host;
  bool head_only = false;
  // Plain HTTP: the parsed head and target, for forwarding.
  http::HeadParser* http_head = nullptr;
  http::RequestTarget* http_target = nullptr;

  static Learned destination() {
    Learned l;
    l.outcome = Outcome::Destination;
    return l;
  }
  static Learned refused(audit::Reason reason, std::string detail, Language language,
                         bool keep_alive = false) {
    Learned l;
    l.outcome = Outcome::Refused;
    l.refusal = reason;
    l.detail = std::move(detail);
    l.language = language;
    l.keep_alive = keep_alive;
    return l;
  }
};

class DestinationSource {
 public:
  virtual ~DestinationSource() = default;
  // The records' mode (an explicit proxy's plain HTTP requests say `http`
  // on their own).
  virtual audit::Mode mode() const = 0;
  // How a connection refused before its first exchange (over a limit, a bad
  // PROXY header) is told: an HTTP client can read why; the others see the
  // close. A SOCKS client can be told only in its own version's reply, so
  // when it must be told (failing closed), its request is read first.
  virtual Language early_language() const { return Language::Silent; }
  virtual bool answers_after_request() const { return false; }
  // The next exchange's destination; `record` gets the facts learned.
  // `requester`: on whose behalf slow shared work is done (SOCKS5's
  // password check), and what ends it early.
  virtual asio::awaitable<Learned> next(ClientConnection& client, audit::Record& record,
                                        Requester requester) = 0;
};

// The listener kinds' sources. `listener`: the listener's own address (a
// transparent connection whose original destination is that address was
// not redirected). SOCKS checks RFC 1929 credentials with `authenticator`
// (on I/O thread `thread`) when there is one.
std::unique_ptr<DestinationSource> explicit_source(const ProxyOptions& options);
std::unique_ptr<DestinationSource> transparent_source(const ProxyOptions& options,
                                                      net::Interception how,
                                                      const tcp::endpoint& listener);
std::unique_ptr<DestinationSource> sni_source(const ProxyOptions& options);
std::unique_ptr<DestinationSource> socks_source(const ProxyOptions& options,
                                                auth::Authenticator* authenticator, int thread);
// The source of a connection that listener `kind`, bound to `listener`,
// accepted: the one place that tells listener kinds apart.
std::unique_ptr<DestinationSource> make_source(ListenerKind kind,
                                               const ConnectionServices& services,
                                               const tcp::endpoint& listener);

}  // namespace chokepoint::proxy
