// The listener kinds' destination sources (src/proxy/destination_source.hpp)
// over real loopback sockets, with the client's bytes arriving one at a
// time: the same destination (or refusal) as when they arrive at once, and
// what was read beyond the need left for the tunnel.
#include "destination_source.hpp"

#include <catch2/catch.hpp>

#include "client_hello_builder.hpp"
#include "stage_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy;
using audit::Reason;

namespace {

struct Fed {
  std::vector<Learned> learned;
  std::vector<audit::Record> records;
  std::string left;  // bytes left in the client's buffer after the last exchange
};

// Runs `source` for up to `exchanges` exchanges while `bytes` arrive in
// pieces of `piece` bytes; `close` ends the client's sending side after.
Fed feed(test::StageFixture& f, std::unique_ptr<DestinationSource> source, const std::string& bytes,
         std::size_t piece, bool close, int exchanges = 1) {
  asio::io_context& io = f.io;
  test::SocketPair pair(io);
  ClientConnection client(std::move(pair.near));
  Fed fed;
  asio::co_spawn(io, test::send_in_pieces(pair.far, bytes, piece, close), asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < exchanges; ++i) {
          audit::Record record;
          record.mode = source->mode();  // as the session begins each exchange's record
          Learned l = co_await source->next(client, record, Requester{});
          const bool go_on = l.outcome == Learned::Outcome::Destination && !l.tunnel;
          if (l.outcome == Learned::Outcome::Destination && !l.tunnel) {
            // What the session would do with a forwarded request's head:
            // consume it (there is no body in these tests).
            l.http_head = nullptr;
            l.http_target = nullptr;
          }
          fed.learned.push_back(std::move(l));
          fed.records.push_back(std::move(record));
          if (!go_on) break;
        }
        fed.left = std::string(client.unread());
        error_code ignored;
        pair.far.close(ignored);
      },
      asio::detached);
  io.restart();
  io.run();
  return fed;
}

std::string hello_for(const std::string& sni) {
  test::HelloOptions options;
  options.sni = sni;
  options.alpn = {"h2"};
  return test::openssl_client_hello(options);
}

ProxyOptions short_timeouts() {
  ProxyOptions o;
  o.head_timeout = std::chrono::milliseconds(300);
  o.peek_timeout = std::chrono::milliseconds(300);
  o.max_header_bytes = 1024;
  return o;
}

}  // namespace

TEST_CASE("explicit: CONNECT in pieces, and the early data stays for the tunnel",
          "[proxy][source]") {
  const std::string head =
      "CONNECT ds20.icrc.trendmicro.com:443 HTTP/1.1\r\nHost: ds20.icrc.trendmicro.com:443\r\n"
      "Proxy-Authorization: Basic dTpw\r\n\r\n";
  for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    INFO("pieces of " << piece);
    test::StageFixture f;
    const Fed fed = feed(f, explicit_source(f.options), head + "early", piece, false);
    REQUIRE(fed.learned.size() == 1);
    const Learned& l = fed.learned[0];
    CHECK(l.outcome == Learned::Outcome::Destination);
    CHECK(l.host.name == "ds20.icrc.trendmicro.com");
    CHECK(l.port == 443);
    CHECK(l.tunnel);
    CHECK(l.check_tunnel_hello);
    CHECK(l.language == Language::Http);
    CHECK(l.authorization == "Basic dTpw");
    CHECK(fed.records[0].mode == audit::Mode::Connect);
    CHECK(fed.records[0].method == "CONNECT");
    CHECK(fed.records[0].http_host == "ds20.icrc.trendmicro.com:443");
    // What came with the head stays for the tunnel (the rest is still in the socket).
    CHECK(std::string("early").rfind(fed.left, 0) == 0);
    if (piece == 4096) CHECK(fed.left == "early");
  }
}

TEST_CASE("explicit: absolute-form requests, one destination each, on one connection",
          "[proxy][source]") {
  test::StageFixture f;
  const std::string two =
      "GET http://iaus.activeupdate.trendmicro.com/a/b?x=1 HTTP/1.1\r\n"
      "Host: iaus.activeupdate.trendmicro.com\r\n\r\n"
      "HEAD http://files.trendmicro.com:8080/c HTTP/1.1\r\nHost: files.trendmicro.com:8080\r\n\r\n";
  const Fed fed = feed(f, explicit_source(f.options), two, 3, true, 3);
  REQUIRE(fed.learned.size() == 3);
  CHECK(fed.learned[0].host.name == "iaus.activeupdate.trendmicro.com");
  CHECK(fed.learned[0].port == 80);
  CHECK_FALSE(fed.learned[0].tunnel);
  CHECK(fed.learned[0].keep_alive);
  CHECK(fed.records[0].path == "/a/b");
  CHECK(fed.records[0].mode == audit::Mode::Http);
  CHECK(fed.learned[1].host.name == "files.trendmicro.com");
  CHECK(fed.learned[1].port == 8080);
  CHECK(fed.records[1].method == "HEAD");
  // Then the client closed between requests: nothing was asked.
  CHECK(fed.learned[2].outcome == Learned::Outcome::Gone);
}

TEST_CASE("explicit: refusals are values that say how to answer", "[proxy][source]") {
  struct Row {
    std::string name;
    std::string bytes;
    bool close;
    Reason reason;
    Language language;
  };
  const Row rows[] = {
      {"origin-form", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, Reason::BadRequest,
       Language::Http},
      {"https in absolute-form", "GET https://x/ HTTP/1.1\r\nHost: x\r\n\r\n", false,
       Reason::BadRequest, Language::Http},
      {"not HTTP", "\x16\x03\x01\x02\x00\x01\r\n\r\n", false, Reason::BadRequest, Language::Http},
      {"oversized head", "GET http://x/ HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n",
       false, Reason::HeaderTooLarge, Language::Http},
      {"head that stalls", "CONNECT x:443 HTTP/1.1\r\n", false, Reason::RequestHeadTimeout,
       Language::Http},
      {"client leaves mid-head", "CONNECT x:443 HTTP/1.1\r\n", true, Reason::ClientClosed,
       Language::Silent},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    test::StageFixture f(short_timeouts());
    const Fed fed = feed(f, explicit_source(f.options), row.bytes, 5, row.close);
    REQUIRE(fed.learned.size() == 1);
    CHECK(fed.learned[0].outcome == Learned::Outcome::Refused);
    CHECK(fed.learned[0].refusal == row.reason);
    CHECK(fed.learned[0].language == row.language);
    CHECK_FALSE(fed.learned[0].detail.empty());
  }
}

TEST_CASE("explicit: a client that leaves before asking leaves nothing", "[proxy][source]") {
  test::StageFixture f;
  const Fed fed = feed(f, explicit_source(f.options), "", 1, true);
  REQUIRE(fed.learned.size() == 1);
  CHECK(fed.learned[0].outcome == Learned::Outcome::Gone);
}

TEST_CASE("SNI listener: the host from the ClientHello, in any segmentation", "[proxy][source]") {
  const std::string hello = hello_for("ds20.icrc.trendmicro.com");
  for (const std::size_t piece : {std::size_t{1}, std::size_t{100}, hello.size()}) {
    INFO("pieces of " << piece);
    test::StageFixture f;
    const Fed fed = feed(f, sni_source(f.options), hello, piece, false);
    REQUIRE(fed.learned.size() == 1);
    const Learned& l = fed.learned[0];
    CHECK(l.outcome == Learned::Outcome::Destination);
    CHECK(l.host.name == "ds20.icrc.trendmicro.com");
    CHECK(l.port == 443);
    CHECK(l.tunnel);
    CHECK(l.language == Language::Tls);
    REQUIRE(l.hello);
    CHECK(fed.records[0].sni == "ds20.icrc.trendmicro.com");
    CHECK(fed.records[0].mode == audit::Mode::Sni);
    CHECK(fed.left == hello);  // all of it goes upstream
  }
}

TEST_CASE("SNI listener: plain HTTP becomes one destination per request", "[proxy][source]") {
  test::StageFixture f;
  const Fed fed =
      feed(f, sni_source(f.options),
           "GET /x HTTP/1.1\r\nHost: iaus.activeupdate.trendmicro.com\r\n\r\n", 2, false);
  REQUIRE(fed.learned.size() == 1);
  CHECK(fed.learned[0].outcome == Learned::Outcome::Destination);
  CHECK(fed.learned[0].host.name == "iaus.activeupdate.trendmicro.com");
  CHECK(fed.learned[0].port == 80);
  CHECK_FALSE(fed.learned[0].tunnel);
  CHECK(fed.learned[0].language == Language::Http);
  CHECK(fed.records[0].mode == audit::Mode::Sni);
  CHECK(fed.records[0].path == "/x");
}

TEST_CASE("SNI listener: refusals of what cannot name a host", "[proxy][source]") {
  std::string malformed = hello_for("a.example");
  malformed[5] = '\x02';  // handshake type: not a ClientHello
  const std::string partial = hello_for("a.example").substr(0, 40);
  struct Row {
    std::string name;
    std::string bytes;
    Reason reason;
    Language language;
  };
  const Row rows[] = {
      {"no SNI", hello_for(""), Reason::NoSni, Language::Tls},
      {"not TLS, not HTTP", std::string("\x00\x01\x02\x03 binary", 12), Reason::NoSni,
       Language::Silent},
      {"malformed hello", malformed, Reason::MalformedClientHello, Language::Tls},
      {"a hello that stalls", partial, Reason::PeekTimeout, Language::Silent},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    test::StageFixture f(short_timeouts());
    const Fed fed = feed(f, sni_source(f.options), row.bytes, 9, false);
    REQUIRE(fed.learned.size() == 1);
    CHECK(fed.learned[0].outcome == Learned::Outcome::Refused);
    CHECK(fed.learned[0].refusal == row.reason);
    CHECK(fed.learned[0].language == row.language);
  }
}
