#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <catch2/catch.hpp>

#include <chokepoint/http/request_target.hpp>

using namespace chokepoint;
using namespace chokepoint::http;
namespace bhttp = boost::beast::http;

namespace {

struct Parsed {
  boost::system::error_code parse_error;
  RequestError error = RequestError::None;
  RequestTarget target;
};

Parsed parse(const std::string& raw) {
  Parsed out;
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.put(boost::asio::buffer(raw), out.parse_error);
  if (!out.parse_error) out.error = read_request_target(parser.get().base(), raw, out.target);
  return out;
}

struct Case {
  const char* name;
  const char* raw;
  RequestError error;
  const char* host;
  std::uint16_t port;
  const char* origin_form;
};

}  // namespace

TEST_CASE("request targets: CONNECT, absolute-form and refusals", "[http][request]") {
  const Case cases[] = {
      {"connect",
       "CONNECT ds20.icrc.trendmicro.com:443 HTTP/1.1\r\nHost: "
       "ds20.icrc.trendmicro.com:443\r\n\r\n",
       RequestError::None, "ds20.icrc.trendmicro.com", 443, ""},
      {"connect http/1.0 without host", "CONNECT files.trendmicro.com:443 HTTP/1.0\r\n\r\n",
       RequestError::None, "files.trendmicro.com", 443, ""},
      {"connect ipv6", "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n", RequestError::None,
       "2001:db8::1", 443, ""},
      {"connect without port", "CONNECT files.trendmicro.com HTTP/1.1\r\n\r\n",
       RequestError::BadAuthority, "", 0, ""},
      {"connect port 0", "CONNECT files.trendmicro.com:0 HTTP/1.1\r\n\r\n",
       RequestError::BadAuthority, "", 0, ""},
      {"connect userinfo", "CONNECT u:p@files.trendmicro.com:443 HTTP/1.1\r\n\r\n",
       RequestError::UserInfo, "", 0, ""},
      {"connect path", "CONNECT files.trendmicro.com:443/x HTTP/1.1\r\n\r\n",
       RequestError::BadAuthority, "", 0, ""},
      {"absolute",
       "GET http://iaus.activeupdate.trendmicro.com/a/b?x=1 HTTP/1.1\r\nHost: "
       "iaus.activeupdate.trendmicro.com\r\n\r\n",
       RequestError::None, "iaus.activeupdate.trendmicro.com", 80, "/a/b?x=1"},
      {"absolute with port",
       "GET http://files.trendmicro.com:8080/ HTTP/1.1\r\nHost: files.trendmicro.com:8080\r\n\r\n",
       RequestError::None, "files.trendmicro.com", 8080, "/"},
      {"absolute without path", "GET http://files.trendmicro.com HTTP/1.1\r\n\r\n",
       RequestError::None, "files.trendmicro.com", 80, "/"},
      {"absolute query only", "GET http://files.trendmicro.com?q HTTP/1.1\r\n\r\n",
       RequestError::None, "files.trendmicro.com", 80, "/?q"},
      {"fragment dropped", "GET http://files.trendmicro.com/a#frag HTTP/1.1\r\n\r\n",
       RequestError::None, "files.trendmicro.com", 80, "/a"},
      {"scheme case", "GET HTTP://Files.TrendMicro.com/ HTTP/1.1\r\n\r\n", RequestError::None,
       "files.trendmicro.com", 80, "/"},
      {"host case and default port",
       "GET http://files.trendmicro.com/ HTTP/1.1\r\nHost: FILES.trendmicro.com:80\r\n\r\n",
       RequestError::None, "files.trendmicro.com", 80, "/"},
      {"origin-form", "GET /index.html HTTP/1.1\r\nHost: files.trendmicro.com\r\n\r\n",
       RequestError::OriginForm, "", 0, ""},
      {"asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", RequestError::AsteriskForm, "", 0, ""},
      {"https absolute", "GET https://files.trendmicro.com/ HTTP/1.1\r\n\r\n",
       RequestError::HttpsAbsoluteForm, "", 0, ""},
      {"ftp", "GET ftp://files.trendmicro.com/ HTTP/1.1\r\n\r\n", RequestError::UnsupportedScheme,
       "", 0, ""},
      {"userinfo", "GET http://u:p@files.trendmicro.com/ HTTP/1.1\r\n\r\n", RequestError::UserInfo,
       "", 0, ""},
      {"duplicate host",
       "GET http://a.example.com/ HTTP/1.1\r\nHost: a.example.com\r\nHost: b.example.com\r\n\r\n",
       RequestError::DuplicateHost, "", 0, ""},
      {"host mismatch", "GET http://a.example.com/ HTTP/1.1\r\nHost: b.example.com\r\n\r\n",
       RequestError::HostMismatch, "", 0, ""},
      {"host port mismatch",
       "GET http://a.example.com/ HTTP/1.1\r\nHost: a.example.com:8080\r\n\r\n",
       RequestError::HostMismatch, "", 0, ""},
      {"obs-fold",
       "GET http://a.example.com/ HTTP/1.1\r\nHost: a.example.com\r\nX-A: b\r\n c\r\n\r\n",
       RequestError::ObsFold, "", 0, ""},
      {"te gzip",
       "POST http://a.example.com/ HTTP/1.1\r\nHost: a.example.com\r\nTransfer-Encoding: "
       "gzip\r\n\r\n",
       RequestError::BadTransferEncoding, "", 0, ""},
      {"te chunked then gzip",
       "POST http://a.example.com/ HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       RequestError::BadTransferEncoding, "", 0, ""},
      {"te gzip then chunked",
       "POST http://a.example.com/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       RequestError::None, "a.example.com", 80, "/"},
      {"dot segment", "GET http://a.example.com/tmcss/../admin HTTP/1.1\r\n\r\n",
       RequestError::AmbiguousPath, "", 0, ""},
      {"encoded dot", "GET http://a.example.com/tmcss/%2e%2E/admin HTTP/1.1\r\n\r\n",
       RequestError::AmbiguousPath, "", 0, ""},
      {"encoded slash", "GET http://a.example.com/tmcss%2Fx HTTP/1.1\r\n\r\n",
       RequestError::AmbiguousPath, "", 0, ""},
      {"backslash", "GET http://a.example.com/tmcss\\..\\x HTTP/1.1\r\n\r\n",
       RequestError::AmbiguousPath, "", 0, ""},
      {"dots in a name are fine", "GET http://a.example.com/news.atom HTTP/1.1\r\n\r\n",
       RequestError::None, "a.example.com", 80, "/news.atom"},
      {"numeric host shorthand", "GET http://127.1/ HTTP/1.1\r\n\r\n", RequestError::BadAuthority,
       "", 0, ""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const Parsed p = parse(c.raw);
    REQUIRE_FALSE(p.parse_error);
    CHECK(to_string(p.error) == to_string(c.error));
    if (c.error == RequestError::None) {
      CHECK(p.target.host.name == c.host);
      CHECK(p.target.port == c.port);
      if (!p.target.connect) CHECK(p.target.origin_form == c.origin_form);
    }
  }
}

TEST_CASE("Beast refuses the smuggling shapes we rely on it for", "[http][request]") {
  for (const char* raw : {
           "POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
           "GET http://a/ HTTP/1.1\nHost: a\n\n",
           "GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n",
       }) {
    INFO(raw);
    CHECK(parse(raw).parse_error);
  }
}

TEST_CASE("transparent requests: origin-form, Host decides, port from the original destination",
          "[http][request]") {
  auto origin = [](const std::string& raw, std::uint16_t port, RequestTarget& target) {
    bhttp::request_parser<bhttp::empty_body> parser;
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(raw), ec);
    REQUIRE_FALSE(ec);
    return read_origin_request(parser.get().base(), raw, port, target);
  };
  RequestTarget t;
  CHECK(origin("GET /x?y HTTP/1.1\r\nHost: IAUS.activeupdate.trendmicro.com:8080\r\n\r\n", 80, t) ==
        RequestError::None);
  CHECK(t.host.name == "iaus.activeupdate.trendmicro.com");
  CHECK(t.port == 80);  // the Host header's port does not choose the destination
  CHECK(t.origin_form == "/x?y");
  CHECK(t.path == "/x");
  CHECK(origin("GET / HTTP/1.0\r\n\r\n", 80, t) == RequestError::MissingHost);
  CHECK(origin("GET http://a.example.com/ HTTP/1.1\r\nHost: a.example.com\r\n\r\n", 80, t) ==
        RequestError::NotOriginForm);
  CHECK(origin("CONNECT a.example.com:443 HTTP/1.1\r\n\r\n", 80, t) == RequestError::NotOriginForm);
  CHECK(origin("GET /a/../b HTTP/1.1\r\nHost: a.example.com\r\n\r\n", 80, t) ==
        RequestError::AmbiguousPath);
  CHECK(origin("GET / HTTP/1.1\r\nHost: a.example.com\r\nHost: b.example.com\r\n\r\n", 80, t) ==
        RequestError::DuplicateHost);
  CHECK(origin("GET / HTTP/1.1\r\nHost: 127.1\r\n\r\n", 80, t) == RequestError::BadAuthority);
}

TEST_CASE("telling plain HTTP from other protocols by the first bytes", "[http][request]") {
  CHECK(guess_http("GET / HTTP/1.1") == HttpGuess::Http);
  CHECK(guess_http("OPTIONS * HTTP/1.1") == HttpGuess::Http);
  CHECK(guess_http("PO") == HttpGuess::NeedMore);
  CHECK(guess_http("") == HttpGuess::NeedMore);
  CHECK(guess_http("SSH-2.0-OpenSSH") == HttpGuess::NotHttp);
  CHECK(guess_http("get / HTTP/1.1") == HttpGuess::NotHttp);
  CHECK(guess_http(" GET") == HttpGuess::NotHttp);
  CHECK(guess_http("AB /") == HttpGuess::NotHttp);  // shorter than any method in use
  CHECK(guess_http("ABCDEFGHIJKLMNOPQRS") == HttpGuess::NotHttp);
}
