#include "proxy_header_stage.hpp"

#include <chokepoint/proxy_protocol/header.hpp>

namespace chokepoint::proxy {
namespace {

namespace pp = proxy_protocol;
using audit::Reason;

ProxyHeader refused(Reason reason, std::string detail) {
  ProxyHeader h;
  h.outcome = ProxyHeader::Outcome::Refused;
  h.refusal = reason;
  h.detail = std::move(detail);
  return h;
}

// What a complete header means for the connection.
ProxyHeader outcome_of(const pp::Header& header) {
  ProxyHeader h;
  if (header.command == pp::Command::Local ||
      (header.version == 1 && header.family == pp::Family::Unspec)) {
    h.outcome = ProxyHeader::Outcome::HealthCheck;
    return h;
  }
  if (!header.has_client_address()) {
    return refused(Reason::ProxyHeaderNoClient,
                   "the PROXY header names no TCP client (its source is UNIX, UDP or unspecified)");
  }
  h.outcome = ProxyHeader::Outcome::Client;
  h.client = Endpoint{header.source.address.unmapped(), header.source.port};
  return h;
}

}  // namespace

bool from_trusted_balancer(const std::vector<Cidr>& trusted, const IpAddress& peer) {
  for (const Cidr& cidr : trusted) {
    if (cidr.contains(peer)) return true;
  }
  return false;
}

asio::awaitable<ProxyHeader> read_proxy_header(ClientConnection& client,
                                               std::chrono::milliseconds deadline) {
  pp::HeaderParser parser;
  client.arm(deadline);
  error_code ec;
  while (true) {
    const pp::Step step = parser.feed(client.unread());
    client.buffer.consume(step.consumed);
    if (step.status != pp::Status::NeedMore) break;
    const bool nothing_yet = parser.consumed() == 0;
    client.commit(co_await client.read_some(ec));
    if (client.deadline.expired()) {
      client.disarm();
      co_return refused(Reason::ProxyHeaderMissing,
                        nothing_yet ? "no PROXY header within the head timeout"
                                    : "the PROXY header did not complete within the head timeout");
    }
    if (ec) {
      client.disarm();
      // A balancer's TCP health check connects and closes: nothing to record.
      if (nothing_yet) co_return ProxyHeader{};
      co_return refused(Reason::ClientClosed,
                        "the balancer closed in the middle of its PROXY header");
    }
  }
  client.disarm();
  // The client's own bytes start after the header: they may not begin
  // with another one.
  client.restart_first_bytes();
  switch (parser.status()) {
    case pp::Status::Done:
      co_return outcome_of(parser.header());
    case pp::Status::NotProxy:
      co_return refused(Reason::ProxyHeaderMissing,
                        "a connection from a trusted balancer (--proxy-protocol-from) must begin "
                        "with a PROXY header");
    case pp::Status::Malformed:
    case pp::Status::NeedMore:
      break;
  }
  co_return refused(Reason::ProxyHeaderMalformed, std::string(parser.error()));
}

std::optional<std::string> forged_proxy_header(const ClientConnection& client) {
  if (pp::detect(client.first_bytes()) != pp::Detection::Header) return std::nullopt;
  return "the connection begins with a PROXY header, and its source is not a trusted balancer "
         "(--proxy-protocol-from): nobody chooses their own address";
}

}  // namespace chokepoint::proxy
