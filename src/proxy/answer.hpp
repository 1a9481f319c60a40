// Private to the proxy module: what a client is told, in its listener's
// language, when its exchange is refused or its tunnel is open. A pure
// mapping from the outcome to bytes (tests/unit/proxy/answer_test.cpp):
// the session decides, this only says it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/endpoint.hpp>

namespace chokepoint::proxy {

enum class Language : std::uint8_t {
  // Explicit proxy, and plain HTTP on transparent and SNI listeners: a
  // status with a Proxy-Status header (RFC 9209) naming the error.
  Http,
  // A client that sent a ClientHello: a fatal access_denied alert for a
  // deny (when the policy's `deny_alert` is on), else only the close.
  Tls,
  // A SOCKS client at its request: the reply with the code it can act on
  // (RFC 1928 6), or SOCKS4's granted/rejected.
  Socks4,
  Socks5,
  // Nothing the client would understand: the close says it.
  Silent,
};

// Why an exchange is refused: what the record and the answer say.
struct Refusal {
  Refusal(audit::Reason why, std::string sentence,
          std::chrono::milliseconds retry = std::chrono::seconds(1))
      : reason(why), detail(std::move(sentence)), retry_after(retry) {}

  audit::Reason reason;
  std::string detail;
  std::chrono::milliseconds retry_after;  // limits: when to try again
};

struct Answer {
  std::string bytes;  // empty for a silent close
  int status = 0;     // the HTTP status, for the record; 0 when none
  bool close = true;  // the connection ends after the answer
};

struct AnswerContext {
  std::string_view detail;  // the record's sentence, if any
  bool keep_alive = false;  // HTTP: the client may send another request after this answer
  bool tls_alert = true;    // the policy's `deny_alert`
  std::string_view realm;   // HTTP 407: the Basic realm
  // HTTP 429 and 503 for limits: when to try again (Retry-After, rounded up).
  std::chrono::milliseconds retry_after{1000};
  // Through a parent proxy: which one ("host:port", Proxy-Status next-hop),
  // and the status it answered (received-status; 0: none).
  std::string_view next_hop = {};
  int received_status = 0;
};

// A tunnel is open and the client may send: HTTP's "200 Connection
// established", SOCKS's success reply with the address the proxy dialed
// from (`bound`); nothing in the other languages.
Answer tunnel_established(Language language, const Endpoint& bound = {});

// The refusal of an exchange for `reason` (anything but a success reason).
Answer refusal(Language language, audit::Reason reason, const AnswerContext& context);

// The PAC file, 200 (HEAD: its head only).
Answer auto_config(std::string_view file, bool head_only, bool keep_alive);

// A fatal TLS alert (access_denied), for refusing a client whose hello we read.
inline constexpr unsigned char kTlsAccessDenied[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31};

}  // namespace chokepoint::proxy
