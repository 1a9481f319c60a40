// What an explicit-proxy request asks for, from its parsed head.
//
//   CONNECT host:port HTTP/1.1          authority-form (RFC 9110 9.3.6)
//   GET http://host[:port]/path HTTP/1.1  absolute-form (RFC 9112 3.2.2)
//
// Anything else is refused with a reason that maps to 400: origin-form ("this
// is not a web server"), https:// in absolute-form (use CONNECT; chokepoint
// never originates or terminates TLS), user info, and the request smuggling
// shapes Beast's parser lets through: obs-fold, duplicate Host, a Host that
// disagrees with the URI, and a Transfer-Encoding whose last coding is not
// chunked (CL+TE, bare LF and conflicting Content-Lengths Beast refuses).
// A path with dot-segments or encoded '/', '\' or '.' is refused too: path
// rules compare prefixes, and "/tmcss/../admin" must not pass as "/tmcss/".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <chokepoint/core/host.hpp>

namespace chokepoint::http {

enum class RequestError : std::uint8_t {
  None,
  OriginForm,
  AsteriskForm,
  BadTarget,
  HttpsAbsoluteForm,
  UnsupportedScheme,
  BadAuthority,
  UserInfo,
  DuplicateHost,
  HostMismatch,
  ObsFold,
  BadTransferEncoding,
  AmbiguousPath,
  MissingHost,    // transparent mode: no Host header (the original destination decides)
  NotOriginForm,  // transparent mode: a client that believes it talks to the server sends
                  // origin-form
};

// Short phrase for the 400 body and the audit detail.
std::string_view to_string(RequestError error);

struct RequestTarget {
  bool connect = false;  // a tunnel; otherwise a request to forward
  Host host;
  std::uint16_t port = 0;
  std::string origin_form;  // forward only: "/path?query", what goes upstream
  std::string path;         // forward only: the path without the query, for path rules
  HostError host_error = HostError::None;  // set with BadAuthority
};

using RequestHeader = boost::beast::http::request_header<>;

// Reads the destination and checks the header; `raw_head` is the head as it
// arrived (for obs-fold, which the parser would otherwise erase).
RequestError read_request_target(const RequestHeader& header, std::string_view raw_head,
                                 RequestTarget& out);

// Transparent mode: the client talks to what it thinks is the server, so the
// request is origin-form; the host comes from the Host header (its port, if
// any, is ignored) and the port from the original destination. The same
// smuggling refusals apply. MissingHost leaves `out.host` unset.
RequestError read_origin_request(const RequestHeader& header, std::string_view raw_head,
                                 std::uint16_t port, RequestTarget& out);

// Whether a stream that is not TLS starts like an HTTP/1 request line
// ("GET /"): Http, NotHttp, or NeedMore until the method's end is seen.
enum class HttpGuess : std::uint8_t { NeedMore, Http, NotHttp };
HttpGuess guess_http(std::string_view first_bytes);

// True when a header line continues on the next line (RFC 9112 5.2 obs-fold).
bool has_obs_fold(std::string_view raw_head);

}  // namespace chokepoint::http
