#include "answer.hpp"

#include <optional>

#include <chokepoint/socks/messages.hpp>

#include "error_response.hpp"

namespace chokepoint::proxy {
namespace {

using audit::Reason;

constexpr std::string_view kConnectEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";

// The HTTP status and RFC 9209 error type of each refusal; details: whether
// the reason code leads the sentence (policy refusals, so a client sees
// which rule-level reason applied).
struct HttpRefusal {
  int status;
  std::string_view type;
  bool reason_first;
};

std::optional<HttpRefusal> http_refusal(Reason reason) {
  switch (reason) {
    case Reason::RuleDenies:
    case Reason::NoMatchingRule:
    case Reason::RoleNotAllowed:
    case Reason::VersionNotAllowed:
    case Reason::PortNotAllowed:
    case Reason::PathNotAllowed:
      return HttpRefusal{403, "http_request_denied", true};
    case Reason::OriginalDestinationMismatch:
      return HttpRefusal{403, "destination_ip_prohibited", true};
    case Reason::ForbiddenAddress:
      return HttpRefusal{403, "destination_ip_prohibited", false};
    case Reason::AuthRequired:
    case Reason::AuthFailed:
      return HttpRefusal{407, "http_request_denied", false};
    case Reason::BadRequest:
      return HttpRefusal{400, "http_request_error", false};
    case Reason::RequestHeadTimeout:
      return HttpRefusal{408, "http_request_error", false};
    case Reason::HeaderTooLarge:
      return HttpRefusal{431, "http_request_error", false};
    case Reason::DnsNotFound:
    case Reason::DnsError:
      return HttpRefusal{502, "dns_error", false};
    case Reason::DnsTimeout:
      return HttpRefusal{504, "dns_timeout", false};
    case Reason::ConnectRefused:
      return HttpRefusal{502, "connection_refused", false};
    case Reason::ConnectTimeout:
      return HttpRefusal{504, "connection_timeout", false};
    case Reason::Unreachable:
      return HttpRefusal{502, "destination_ip_unroutable", false};
    case Reason::ConnectFailed:
      return HttpRefusal{502, "destination_unavailable", false};
    case Reason::UpstreamWriteFailed:
      return HttpRefusal{502, "connection_terminated", false};
    case Reason::UpstreamProxyRefused:
      // The parent said no to our CONNECT (received-status says how).
      return HttpRefusal{502, "destination_unavailable", false};
    case Reason::UpstreamProxyFailed:
      return HttpRefusal{502, "http_protocol_error", false};
    case Reason::ProxyHeaderRefused:
      return HttpRefusal{403, "http_request_denied", true};
    case Reason::ProxyHeaderMissing:
    case Reason::ProxyHeaderMalformed:
    case Reason::ProxyHeaderNoClient:
      return HttpRefusal{400, "http_request_error", true};
    case Reason::ConnectionLimit:
    case Reason::ClientConnectionLimit:
    case Reason::PendingHeadsLimit:
    case Reason::ClientPendingHeadsLimit:
    case Reason::BufferMemoryLimit:
      return HttpRefusal{503, "connection_limit_reached", false};
    case Reason::RateLimited:
      return HttpRefusal{429, "connection_limit_reached", false};
    case Reason::AuditUnavailable:
      return HttpRefusal{503, "proxy_internal_error", true};
    default:
      // The client is gone, the proxy is stopping, or the reason is not
      // HTTP's to tell (a ClientHello's): nothing to answer.
      return std::nullopt;
  }
}

// Refusals that pass: the client may try again later (Retry-After).
bool is_limit(Reason reason) {
  return audit::source_of(reason) == audit::Source::Limit || reason == Reason::AuditUnavailable;
}

Answer http_answer(Reason reason, const AnswerContext& context) {
  const auto refusal = http_refusal(reason);
  if (!refusal) return Answer{};
  std::string details(context.detail);
  if (refusal->reason_first) {
    details = std::string(audit::to_string(reason)) + (details.empty() ? "" : ": " + details);
  }
  // A parent that wants other credentials than ours: our configuration is wrong.
  const std::string_view type =
      reason == Reason::UpstreamProxyRefused && context.received_status == 407
          ? "proxy_configuration_error"
          : refusal->type;
  ErrorResponse response(refusal->status, type, std::move(details));
  response.close = !context.keep_alive;
  response.next_hop = std::string(context.next_hop);
  response.received_status = context.received_status;
  if (reason == Reason::AuthRequired || reason == Reason::AuthFailed) {
    response.extra_headers = "Proxy-Authenticate: Basic realm=" + structured_string(context.realm) +
                             ", charset=\"UTF-8\"\r\n";
  }
  if (is_limit(reason)) {
    const auto seconds = (context.retry_after.count() + 999) / 1000;
    response.extra_headers =
        "Retry-After: " + std::to_string(std::max<std::int64_t>(1, seconds)) + "\r\n";
  }
  return Answer{render(response), refusal->status, response.close};
}

// RFC 1928 6: the reply a SOCKS5 client can act on.
socks::ReplyCode socks_code(Reason reason) {
  switch (audit::source_of(reason)) {
    case audit::Source::Policy:
      return socks::ReplyCode::NotAllowed;
    case audit::Source::Upstream:
      break;
    default:
      return socks::ReplyCode::GeneralFailure;
  }
  switch (reason) {
    case Reason::DnsNotFound:
    case Reason::DnsError:
    case Reason::DnsTimeout:
    case Reason::Unreachable:
      return socks::ReplyCode::HostUnreachable;
    case Reason::ConnectRefused:
      return socks::ReplyCode::ConnectionRefused;
    case Reason::ConnectTimeout:
      return socks::ReplyCode::TtlExpired;
    default:
      return socks::ReplyCode::GeneralFailure;
  }
}

Answer socks_answer(socks::ServerMessage message, bool close) {
  const auto bytes = message.bytes();
  return Answer{std::string(bytes.begin(), bytes.end()), 0, close};
}

}  // namespace

Answer refusal(Language language, Reason reason, const AnswerContext& context) {
  switch (language) {
    case Language::Http:
      return http_answer(reason, context);
    case Language::Tls:
      if (context.tls_alert && audit::event_of(reason) == audit::Event::Deny) {
        return Answer{std::string(std::begin(kTlsAccessDenied), std::end(kTlsAccessDenied)), 0,
                      true};
      }
      return Answer{};
    case Language::Socks4:
      return socks_answer(socks::v4_reply(false), true);
    case Language::Socks5:
      return socks_answer(socks::v5_reply(socks_code(reason)), true);
    case Language::Silent:
      return Answer{};
  }
  return Answer{};
}

Answer auto_config(std::string_view file, bool head_only, bool keep_alive) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\n"
      "Cache-Control: max-age=300\r\nContent-Length: " +
      std::to_string(file.size()) + "\r\n" +
      (keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
  if (!head_only) out += file;
  return Answer{std::move(out), 200, !keep_alive};
}

Answer tunnel_established(Language language, const Endpoint& bound) {
  switch (language) {
    case Language::Http:
      return Answer{std::string(kConnectEstablished), 200, false};
    case Language::Socks4:
      return socks_answer(socks::v4_reply(true, bound.address.unmapped(), bound.port), false);
    case Language::Socks5:
      return socks_answer(
          socks::v5_reply(socks::ReplyCode::Succeeded, bound.address.unmapped(), bound.port),
          false);
    case Language::Tls:
    case Language::Silent:
      break;
  }
  return Answer{{}, 0, false};
}

}  // namespace chokepoint::proxy
