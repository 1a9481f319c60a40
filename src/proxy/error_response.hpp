// Answers a client can act on: the status, a Proxy-Status header
// (RFC 9209) naming the error type and the rule or reason, and a short text
// body. Rendered as bytes: these go out before any upstream exists.
#pragma once

#include <string>
#include <string_view>

namespace chokepoint::proxy {

struct ErrorResponse {
  ErrorResponse(int status_code, std::string_view type, std::string text)
      : status(status_code), error_type(type), details(std::move(text)) {}

  int status = 500;
  std::string_view error_type;  // RFC 9209 proxy error type, e.g. "http_request_denied"
  std::string details;          // goes into Proxy-Status details and the body
  bool close = true;            // Connection: close
  std::string extra_headers;    // complete lines, e.g. "Proxy-Authenticate: Basic realm=\"x\"\r\n"
  // RFC 9209 2.1.2, 2.1.4: the parent proxy chokepoint asked ("host:port"),
  // and the status it answered; empty and 0 when there was none.
  std::string next_hop;
  int received_status = 0;
};

std::string render(const ErrorResponse& response);

// RFC 9209 sf-string: printable ASCII, with '"' and '\' escaped.
std::string structured_string(std::string_view text);

}  // namespace chokepoint::proxy
