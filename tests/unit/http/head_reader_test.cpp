// The head reader against heads that arrive in pieces, down to one byte at
// a time: the outcome must be the one of a single arrival.
#include <catch2/catch.hpp>

#include <chokepoint/http/head_reader.hpp>

using namespace chokepoint;
namespace bhttp = boost::beast::http;

namespace {

struct Read {
  boost::system::error_code ec;
  bool folded = false;
  std::size_t taken = 0;
};

// Feeds `head` in arrivals of `chunk` bytes (the received bytes accumulate).
Read read_in_pieces(std::string_view head, std::size_t chunk) {
  http::HeadParser parser;
  Read r;
  for (std::size_t end = std::min(chunk, head.size());; end = std::min(end + chunk, head.size())) {
    const auto step = http::feed_request_head(parser, head.substr(0, end), r.taken);
    r.ec = step.ec;
    r.folded = step.folded;
    if (step.ec != bhttp::error::need_more || end == head.size()) return r;
  }
}

}  // namespace

TEST_CASE("a head read in pieces is the head read at once", "[http]") {
  const std::string head =
      "GET http://iaus.activeupdate.trendmicro.com/a HTTP/1.1\r\n"
      "Host: iaus.activeupdate.trendmicro.com\r\n"
      "X-Trickle: 1\r\n\r\n";
  const std::size_t chunk = GENERATE(1, 2, 3, 16, 55, 56, 57, 1000);
  INFO("arrivals of " << chunk << " bytes");
  const Read r = read_in_pieces(head, chunk);
  CHECK_FALSE(r.ec);
  CHECK(r.taken == head.size());
}

TEST_CASE("the request line alone, then the fields", "[http]") {
  // Beast takes the complete start line while it waits for the fields.
  http::HeadParser parser;
  std::size_t taken = 0;
  const std::string line = "CONNECT files.trendmicro.com:443 HTTP/1.1\r\n";
  auto step = http::feed_request_head(parser, line, taken);
  CHECK(step.ec == bhttp::error::need_more);
  CHECK(taken == line.size());
  const std::string whole = line + "Host: files.trendmicro.com:443\r\n\r\n";
  step = http::feed_request_head(parser, whole, taken);
  CHECK_FALSE(step.ec);
  CHECK(taken == whole.size());
  CHECK(parser.get().target() == "files.trendmicro.com:443");
  CHECK(parser.get()[bhttp::field::host] == "files.trendmicro.com:443");
}

TEST_CASE("an incomplete head needs more; nothing new changes nothing", "[http]") {
  http::HeadParser parser;
  std::size_t taken = 0;
  const std::string part = "GET http://a.example/ HTTP/1.1\r\nHost: a.ex";
  CHECK(http::feed_request_head(parser, part, taken).ec == bhttp::error::need_more);
  const std::size_t before = taken;
  CHECK(http::feed_request_head(parser, part, taken).ec == bhttp::error::need_more);
  CHECK(taken == before);
}

TEST_CASE("a folded line is refused wherever the pieces split it", "[http]") {
  const std::string head =
      "GET http://a.example/ HTTP/1.1\r\n"
      "Host: a.example\r\n"
      "X-Folded: one\r\n"
      " two\r\n\r\n";
  const std::size_t chunk = GENERATE(1, 7, 33, 1000);
  const Read r = read_in_pieces(head, chunk);
  CHECK(r.ec == bhttp::error::bad_field);
  CHECK(r.folded);
}

TEST_CASE("garbage is refused, not waited for", "[http]") {
  const Read r = read_in_pieces("GET http://a.example/ HTTP/1.1\r\nBad Field\r\n\r\n", 5);
  CHECK(r.ec);
  CHECK(r.ec != bhttp::error::need_more);
  CHECK_FALSE(r.folded);
}
