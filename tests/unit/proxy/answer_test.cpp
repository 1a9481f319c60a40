// What each listener language says for each outcome (src/proxy/answer.hpp).
#include "answer.hpp"

#include <catch2/catch.hpp>

using namespace chokepoint;
using namespace chokepoint::proxy;
using audit::Reason;

namespace {

AnswerContext context(std::string_view detail, bool keep_alive = false, bool alert = true,
                      std::string_view realm = "realm") {
  return AnswerContext{detail, keep_alive, alert, realm};
}

std::string status_line(const Answer& a) {
  return a.bytes.substr(0, a.bytes.find("\r\n"));
}

std::string header(const Answer& a, const std::string& name) {
  const auto at = a.bytes.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  const auto start = at + name.size() + 4;
  return a.bytes.substr(start, a.bytes.find("\r\n", start) - start);
}

}  // namespace

TEST_CASE("HTTP refusals: status, Proxy-Status and headers per reason", "[proxy][answer]") {
  struct Row {
    Reason reason;
    int status;
    std::string proxy_status;
  };
  const Row rows[] = {
      {Reason::NoMatchingRule, 403,
       "chokepoint; error=http_request_denied; details=\"no_matching_rule: why\""},
      {Reason::PathNotAllowed, 403,
       "chokepoint; error=http_request_denied; details=\"path_not_allowed: why\""},
      {Reason::ForbiddenAddress, 403,
       "chokepoint; error=destination_ip_prohibited; details=\"why\""},
      {Reason::OriginalDestinationMismatch, 403,
       "chokepoint; error=destination_ip_prohibited; details=\"original_destination_mismatch: "
       "why\""},
      {Reason::AuthRequired, 407, "chokepoint; error=http_request_denied; details=\"why\""},
      {Reason::BadRequest, 400, "chokepoint; error=http_request_error; details=\"why\""},
      {Reason::RequestHeadTimeout, 408, "chokepoint; error=http_request_error; details=\"why\""},
      {Reason::HeaderTooLarge, 431, "chokepoint; error=http_request_error; details=\"why\""},
      {Reason::DnsNotFound, 502, "chokepoint; error=dns_error; details=\"why\""},
      {Reason::DnsTimeout, 504, "chokepoint; error=dns_timeout; details=\"why\""},
      {Reason::ConnectRefused, 502, "chokepoint; error=connection_refused; details=\"why\""},
      {Reason::ConnectTimeout, 504, "chokepoint; error=connection_timeout; details=\"why\""},
      {Reason::Unreachable, 502, "chokepoint; error=destination_ip_unroutable; details=\"why\""},
      {Reason::ConnectFailed, 502, "chokepoint; error=destination_unavailable; details=\"why\""},
      {Reason::UpstreamWriteFailed, 502,
       "chokepoint; error=connection_terminated; details=\"why\""},
      {Reason::PendingHeadsLimit, 503,
       "chokepoint; error=connection_limit_reached; details=\"why\""},
  };
  for (const Row& row : rows) {
    INFO(audit::to_string(row.reason));
    const Answer a = refusal(Language::Http, row.reason, context("why", false, true, "realm"));
    CHECK(a.status == row.status);
    CHECK(a.close);
    CHECK(status_line(a).rfind("HTTP/1.1 " + std::to_string(row.status) + " ", 0) == 0);
    CHECK(header(a, "Proxy-Status") == row.proxy_status);
    CHECK(header(a, "Connection") == "close");
  }
}

TEST_CASE("HTTP refusals carry what the client needs to act", "[proxy][answer]") {
  const Answer auth = refusal(Language::Http, Reason::AuthFailed, context("x", true, true, "corp"));
  CHECK(header(auth, "Proxy-Authenticate") == "Basic realm=\"corp\", charset=\"UTF-8\"");
  CHECK_FALSE(auth.close);  // keep-alive: the client may retry with credentials
  CHECK(header(auth, "Connection") == "keep-alive");
  const Answer limit = refusal(Language::Http, Reason::ClientConnectionLimit, context("x"));
  CHECK(header(limit, "Retry-After") == "1");
  CHECK(limit.status == 503);
}

TEST_CASE("nothing is said to a client that is gone or when the proxy stops", "[proxy][answer]") {
  for (const Reason reason : {Reason::ClientClosed, Reason::Shutdown, Reason::InternalError}) {
    const Answer a = refusal(Language::Http, reason, context("x"));
    CHECK(a.bytes.empty());
    CHECK(a.status == 0);
    CHECK(a.close);
  }
}

TEST_CASE("TLS clients get an alert for a deny only, and only when the policy says so",
          "[proxy][answer]") {
  const std::string alert(std::begin(kTlsAccessDenied), std::end(kTlsAccessDenied));
  CHECK(refusal(Language::Tls, Reason::SniMismatch, context("", false, true)).bytes == alert);
  CHECK(refusal(Language::Tls, Reason::NoMatchingRule, context("", false, true)).bytes == alert);
  CHECK(refusal(Language::Tls, Reason::MalformedClientHello, context("", false, true)).bytes ==
        alert);
  CHECK(refusal(Language::Tls, Reason::NoMatchingRule, context("", false, false)).bytes.empty());
  // An error is not a refusal of the client's: no alert, just the close.
  CHECK(refusal(Language::Tls, Reason::ConnectRefused, context("", false, true)).bytes.empty());
  CHECK(refusal(Language::Silent, Reason::NoMatchingRule, context("", false, true)).bytes.empty());
}

TEST_CASE("an open tunnel is announced in HTTP only", "[proxy][answer]") {
  const Answer http = tunnel_established(Language::Http);
  CHECK(http.bytes == "HTTP/1.1 200 Connection established\r\n\r\n");
  CHECK(http.status == 200);
  CHECK_FALSE(http.close);
  CHECK(tunnel_established(Language::Tls).bytes.empty());
  CHECK_FALSE(tunnel_established(Language::Silent).close);
}

TEST_CASE("a parent proxy's refusal or failure: 502 naming it, in every language",
          "[proxy][answer]") {
  AnswerContext refused = context("the upstream proxy proxy.corp:3128 answered 403 Forbidden");
  refused.next_hop = "proxy.corp:3128";
  refused.received_status = 403;
  const Answer a = refusal(Language::Http, Reason::UpstreamProxyRefused, refused);
  CHECK(a.status == 502);
  CHECK(header(a, "Proxy-Status") ==
        "chokepoint; error=destination_unavailable; next-hop=\"proxy.corp:3128\"; "
        "received-status=403; details=\"the upstream proxy proxy.corp:3128 answered 403 "
        "Forbidden\"");
  // A parent that wants credentials we do not have: our configuration is wrong.
  refused.received_status = 407;
  CHECK(header(refusal(Language::Http, Reason::UpstreamProxyRefused, refused), "Proxy-Status")
            .rfind("chokepoint; error=proxy_configuration_error; next-hop=", 0) == 0);
  // The parent down: the connect's own error type, with the parent as next hop.
  AnswerContext down = context("why");
  down.next_hop = "proxy.corp:3128";
  const Answer d = refusal(Language::Http, Reason::ConnectRefused, down);
  CHECK(d.status == 502);
  CHECK(header(d, "Proxy-Status") ==
        "chokepoint; error=connection_refused; next-hop=\"proxy.corp:3128\"; details=\"why\"");
  CHECK(refusal(Language::Http, Reason::UpstreamProxyFailed, down).status == 502);
  // SOCKS5: refused by the parent is a general failure (0x01), the parent
  // down a refused connection (0x05); SOCKS4 only has "rejected".
  CHECK(refusal(Language::Socks5, Reason::UpstreamProxyRefused, refused).bytes[1] == 0x01);
  CHECK(refusal(Language::Socks5, Reason::ConnectRefused, down).bytes[1] == 0x05);
  CHECK(refusal(Language::Socks4, Reason::UpstreamProxyRefused, refused).bytes[1] == 0x5b);
  // Transparent: only the close says it.
  CHECK(refusal(Language::Tls, Reason::UpstreamProxyRefused, refused).bytes.empty());
  CHECK(refusal(Language::Silent, Reason::UpstreamProxyFailed, down).bytes.empty());
}

TEST_CASE("PROXY header refusals", "[proxy][answer]") {
  const Answer forged = refusal(Language::Http, Reason::ProxyHeaderRefused, context("why"));
  CHECK(forged.status == 403);
  CHECK(header(forged, "Proxy-Status") ==
        "chokepoint; error=http_request_denied; details=\"proxy_header_refused: why\"");
  for (const Reason reason :
       {Reason::ProxyHeaderMissing, Reason::ProxyHeaderMalformed, Reason::ProxyHeaderNoClient}) {
    INFO(audit::to_string(reason));
    CHECK(refusal(Language::Http, reason, context("why")).status == 400);
    CHECK(refusal(Language::Silent, reason, context("why")).bytes.empty());
  }
}
