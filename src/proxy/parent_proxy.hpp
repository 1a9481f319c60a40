// Private to the proxy module: going out through a parent (upstream) proxy
// (DESIGN.md, "Data flow": dial directly, or through a parent proxy). Many
// sites' only way out is a corporate proxy; chokepoint stays the filter in
// front of it. The decision is made first, exactly as without a parent;
// then, instead of resolving and dialing the destination, the session dials
// the parent and asks it for the destination with CONNECT host:port, by
// name, so the parent resolves (chokepoint may not even be able to).
//
// The parent's own address is exempt from address vetting (the operator
// named it: Smokescreen's private-address check refusing its users' own
// parent is the mistake not to repeat); an IP-literal destination is still
// vetted, since chokepoint knows that address without resolving. A name
// sent to the parent is not vetted here: the parent resolves it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/deadline.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/core/upstream_proxy.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::proxy {

struct ProxyOptions;

// The parent an allowed exchange goes out through: the rule's
// `upstream_proxy:` (none when the rule says `direct`), else
// --upstream-proxy; null: straight to the destination.
const UpstreamProxy* parent_for(const policy::Rule* rule, const ProxyOptions& options);

// "Basic base64(user:password)" for the parent, or empty when it has no
// credentials (RFC 7617).
std::string parent_authorization(const UpstreamProxy& parent);

// Through a parent, an IP-literal destination is still vetted like any
// address (forbidden_address); a name cannot be, the parent resolves it.
// The sentence saying why `host` is refused, or nothing.
std::optional<std::string> refused_literal(const Host& host, std::uint16_t port,
                                           const policy::Snapshot& snapshot,
                                           const policy::ClientIdentity& identity);

struct ParentAnswer {
  // None: the tunnel is open. UpstreamProxyRefused: the parent answered
  // `status` (not 2xx). ConnectTimeout: no complete answer within the
  // timeout. UpstreamProxyFailed: the parent closed, or answered something
  // that is not an HTTP response head (or too large a one).
  // UpstreamWriteFailed: the CONNECT could not be sent.
  audit::Reason failure = audit::Reason::None;
  std::string detail;
  int status = 0;  // the parent's final status, when it answered one
  // Bytes the parent sent after its 2xx head: the destination's first,
  // for the client, ahead of the relay.
  std::string early;
};

// Sends CONNECT host:port (with Proxy-Authorization when the parent has
// credentials) on `socket`, connected to `parent`, and reads the answer
// (http/connect_response.hpp: bounded by `max_head_bytes`, incremental),
// all within `timeout`. The session dials the parent (upstream.hpp).
asio::awaitable<ParentAnswer> ask_parent(tcp::socket& socket, const UpstreamProxy& parent,
                                         const Host& host, std::uint16_t port,
                                         std::chrono::milliseconds timeout,
                                         std::size_t max_head_bytes);

}  // namespace chokepoint::proxy
