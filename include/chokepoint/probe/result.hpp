// What probing one destination found (DESIGN.md, "Probing the path"): an
// outcome naming the step that failed, what it said, and how long each step
// took. Pure: the prober fills it, the renderers print it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/probe/targets.hpp>

namespace chokepoint::probe {

// In the order of the steps, so the step that failed is the first not
// passed; NotProbed last.
enum class Outcome : std::uint8_t {
  Ok,
  Dns,          // the name did not resolve (no such name, no answer, a failing server)
  Vetting,      // it resolves only to addresses the proxy refuses (private, loopback, ...)
  Connect,      // refused or unreachable
  Timeout,      // no answer to the connect or the TLS handshake within the step's time
  Tls,          // the handshake failed (not TLS, an alert, the peer closed)
  Certificate,  // the chain or the name did not verify: what a TLS-inspecting middlebox does
  Parent,       // the parent proxy could not be reached, or refused the CONNECT
  NotProbed,
};

// "ok", "dns", ..., "not_probed".
std::string_view to_string(Outcome outcome);
// Something probed that is not reachable (not Ok, not NotProbed).
bool is_failure(Outcome outcome);

struct Result {
  Target target;
  Outcome outcome = Outcome::NotProbed;
  std::string detail;                  // why, in a sentence (empty for ok)
  std::vector<std::string> addresses;  // the vetted addresses the name resolved to
  std::string upstream;                // the address that answered, "ip:port"
  std::string upstream_proxy;          // the parent it went through, if any
  std::int64_t dns_ms = -1;            // -1: the step did not run
  std::int64_t connect_ms = -1;        // through a parent: connecting and its answer
  std::int64_t tls_ms = -1;
  // The certificate the far end presented (RFC 2253 names), when known.
  std::string subject;
  std::string issuer;
};

// The outcome of a dial that failed with `reason` (proxy/upstream.hpp):
// through a parent, everything but a refused address literal is the
// parent's; a stop requested mid-dial (the time limit) is a timeout.
Outcome dial_outcome(audit::Reason reason, bool through_parent);

}  // namespace chokepoint::probe
