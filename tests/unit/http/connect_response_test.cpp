// A parent proxy's answer to CONNECT, split at every byte: the outcome and
// the end of the head must be those of one arrival, and the bytes after a
// 2xx head (the destination's) are never taken.
#include <catch2/catch.hpp>

#include <chokepoint/http/connect_response.hpp>

using namespace chokepoint;
using http::ConnectAnswer;

namespace {

struct Read {
  ConnectAnswer answer = ConnectAnswer::NeedMore;
  int status = 0;
  std::string reason;
  std::size_t head_bytes = 0;
};

// The answer with its bytes arriving as [0, split) then the rest.
Read read_split(std::string_view bytes, std::size_t split, std::size_t limit = 16 * 1024) {
  http::ConnectResponseReader reader(limit);
  ConnectAnswer answer = reader.feed(bytes.substr(0, split));
  if (answer == ConnectAnswer::NeedMore) answer = reader.feed(bytes);
  return {answer, reader.status(), std::string(reader.reason()), reader.head_bytes()};
}

// Every byte its own arrival.
Read read_bytewise(std::string_view bytes, std::size_t limit = 16 * 1024) {
  http::ConnectResponseReader reader(limit);
  for (std::size_t end = 1; end <= bytes.size(); ++end) {
    if (reader.feed(bytes.substr(0, end)) != ConnectAnswer::NeedMore) break;
  }
  return {reader.answer(), reader.status(), std::string(reader.reason()), reader.head_bytes()};
}

void grind(std::string_view bytes, const Read& expected, std::size_t limit = 16 * 1024) {
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    INFO("split at " << split);
    const Read r = read_split(bytes, split, limit);
    CHECK(r.answer == expected.answer);
    CHECK(r.status == expected.status);
    CHECK(r.reason == expected.reason);
    if (expected.answer == ConnectAnswer::Established) CHECK(r.head_bytes == expected.head_bytes);
  }
  const Read r = read_bytewise(bytes, limit);
  CHECK(r.answer == expected.answer);
  CHECK(r.status == expected.status);
  if (expected.answer == ConnectAnswer::Established) CHECK(r.head_bytes == expected.head_bytes);
}

}  // namespace

TEST_CASE("a parent's 200 opens the tunnel; its next bytes are the destination's",
          "[http][connect_response]") {
  // As squid 5 answers, then a banner from a server that speaks first.
  const std::string head = "HTTP/1.1 200 Connection established\r\n\r\n";
  grind(head + "220 smtp.example ESMTP\r\n",
        {ConnectAnswer::Established, 200, "Connection established", head.size()});
  grind(head, {ConnectAnswer::Established, 200, "Connection established", head.size()});
  // HTTP/1.0 parents, fields, and a Content-Length a 2xx to CONNECT must ignore.
  const std::string old = "HTTP/1.0 200 OK\r\nProxy-Agent: corp/1\r\nContent-Length: 5\r\n\r\n";
  grind(old + "\x16\x03\x03", {ConnectAnswer::Established, 200, "OK", old.size()});
}

TEST_CASE("interim answers are skipped, the final one counts", "[http][connect_response]") {
  const std::string bytes =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
      "HTTP/1.1 200 Connection established\r\n\r\n";
  grind(bytes + "tunnel",
        {ConnectAnswer::Established, 200, "Connection established", bytes.size()});
}

TEST_CASE("a parent's refusal: its status and reason, its body unread",
          "[http][connect_response]") {
  const std::string denied =
      "HTTP/1.1 403 Forbidden\r\nServer: squid/5.7\r\nContent-Type: text/html;charset=utf-8\r\n"
      "Content-Length: 3427\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n\r\n<html>";
  grind(denied, {ConnectAnswer::Refused, 403, "Forbidden", 0});
  const std::string auth =
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n"
      "Content-Length: 0\r\n\r\n";
  grind(auth, {ConnectAnswer::Refused, 407, "Proxy Authentication Required", 0});
  grind("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
        {ConnectAnswer::Refused, 101, "Switching Protocols", 0});
  // A hostile reason phrase comes back printable and bounded.
  const std::string hostile = "HTTP/1.1 502 " + std::string(200, 'x') + "\xff\r\n\r\n";
  const Read r = read_split(hostile, hostile.size());
  CHECK(r.answer == ConnectAnswer::Refused);
  CHECK(r.reason == std::string(64, 'x'));
  const Read odd = read_split("HTTP/1.1 502 Bad\x80Gateway\r\n\r\n", 5);
  CHECK(odd.reason == "Bad?Gateway");
}

TEST_CASE("what is not an answer, and an answer too large", "[http][connect_response]") {
  for (const std::string& bytes :
       {std::string("SSH-2.0-OpenSSH_9.2\r\n"), std::string("HTTP/1.1 2000 Huge\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nBad Field\r\n\r\n"),
        std::string("\x16\x03\x01\x00\x05hello")}) {
    INFO(bytes);
    grind(bytes, {ConnectAnswer::Malformed, 0, "", 0});
  }
  const std::string big = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(300, 'p') + "\r\n\r\n";
  grind(big, {ConnectAnswer::TooLarge, 0, "", 0}, 256);
  grind(big, {ConnectAnswer::Established, 200, "OK", big.size()}, big.size());
  // Interim heads count against the same bound.
  std::string many;
  for (int i = 0; i < 20; ++i)
    many += "HTTP/1.1 100 Continue\r\n\r\n";
  grind(many + "HTTP/1.1 200 OK\r\n\r\n", {ConnectAnswer::TooLarge, 0, "", 0}, 256);
  // Silence, then the parent closes: still waiting (the caller's EOF says the rest).
  http::ConnectResponseReader reader;
  CHECK(reader.feed("") == ConnectAnswer::NeedMore);
  CHECK(reader.feed("HTTP/1.1 20") == ConnectAnswer::NeedMore);
}
