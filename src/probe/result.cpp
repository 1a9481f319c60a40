#include <chokepoint/probe/result.hpp>

namespace chokepoint::probe {

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::Ok:
      return "ok";
    case Outcome::Dns:
      return "dns";
    case Outcome::Vetting:
      return "vetting";
    case Outcome::Connect:
      return "connect";
    case Outcome::Timeout:
      return "timeout";
    case Outcome::Tls:
      return "tls";
    case Outcome::Certificate:
      return "certificate";
    case Outcome::Parent:
      return "parent";
    case Outcome::NotProbed:
      return "not_probed";
  }
  return "not_probed";
}

bool is_failure(Outcome outcome) {
  return outcome != Outcome::Ok && outcome != Outcome::NotProbed;
}

Outcome dial_outcome(audit::Reason reason, bool through_parent) {
  using audit::Reason;
  if (reason == Reason::ForbiddenAddress) return Outcome::Vetting;
  if (reason == Reason::Shutdown) return Outcome::Timeout;
  // The parent was not reached, did not answer, or refused: from here the
  // destination's own path is unknown.
  if (through_parent) return Outcome::Parent;
  switch (reason) {
    case Reason::DnsNotFound:
    case Reason::DnsTimeout:
    case Reason::DnsError:
      return Outcome::Dns;
    case Reason::ConnectTimeout:
      return Outcome::Timeout;
    case Reason::UpstreamProxyRefused:
    case Reason::UpstreamProxyFailed:
      return Outcome::Parent;
    default:
      return Outcome::Connect;
  }
}

}  // namespace chokepoint::probe
