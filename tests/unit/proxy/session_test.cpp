// One connection's whole data flow (src/proxy/session.hpp), driven by a
// scripted destination source against loopback servers, asserted on what
// the client is told and on the records it leaves.
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "session_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy;
using namespace std::chrono_literals;
using audit::Event;
using audit::Reason;

namespace {

// Reads to the client's end, answers "got N", closes.
asio::awaitable<void> echo_count(tcp::socket socket) {
  std::string in;
  error_code ec;
  co_await asio::async_read(socket, asio::dynamic_buffer(in), await_into(ec));
  const std::string out = "got " + std::to_string(in.size());
  co_await asio::async_write(socket, asio::buffer(out), await_into(ec));
}

std::string allow_loopback(std::uint16_t port) {
  return "version: 1\nrules:\n  - {id: loopback, ports: [" + std::to_string(port) +
         "], destinations: [127.0.0.1/32]}\n";
}

}  // namespace

TEST_CASE("an allowed tunnel answers 200, relays, and leaves open then close", "[proxy][session]") {
  test::SessionFixture f;
  test::Server upstream(f.io, echo_count);
  f.snapshot = test::snapshot_from(allow_loopback(upstream.port()));
  f.start({test::tunnel_to("127.0.0.1", upstream.port())});
  std::string told;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        error_code ec;
        std::string head;
        co_await asio::async_read_until(f.client, asio::dynamic_buffer(head), "\r\n\r\n",
                                        await_into(ec));
        co_await asio::async_write(f.client, asio::buffer(std::string("ping")), await_into(ec));
        f.client.shutdown(tcp::socket::shutdown_send);
        told = head + co_await test::read_all(f.client);
      },
      asio::detached);
  const auto records = f.records();
  CHECK(told == "HTTP/1.1 200 Connection established\r\n\r\ngot 4");
  REQUIRE(records.size() == 2);
  CHECK(records[0].event == Event::Open);
  CHECK(records[0].rule == "loopback");
  CHECK(records[0].upstream == "127.0.0.1:" + std::to_string(upstream.port()));
  CHECK(records[0].status == 200);
  CHECK(records[1].event == Event::Close);
  CHECK(records[1].id == records[0].id);
  CHECK(records[1].bytes_up == 4);
  CHECK(records[1].bytes_down == 5);
  CHECK(records[1].end == audit::End::Eof);
}

TEST_CASE("a destination no rule allows is refused in the client's language, once",
          "[proxy][session]") {
  test::SessionFixture f(allow_loopback(1));
  f.start({test::tunnel_to("evil.example", 443)});
  std::string told;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        told = co_await test::read_all(f.client);
        f.client.close();  // as a client does once it has read the answer
      },
      asio::detached);
  const auto records = f.records();
  CHECK(told.rfind("HTTP/1.1 403 Forbidden\r\n", 0) == 0);
  CHECK(told.find("Proxy-Status: chokepoint; error=http_request_denied") != std::string::npos);
  REQUIRE(records.size() == 1);
  CHECK(records[0].event == Event::Deny);
  CHECK(records[0].reason == Reason::NoMatchingRule);
  CHECK(records[0].host == "evil.example");
  CHECK(records[0].status == 403);
}

TEST_CASE("a refused connect is an error record and a 502", "[proxy][session]") {
  std::uint16_t closed_port = 0;
  {
    asio::io_context io;
    tcp::acceptor taken(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed_port = taken.local_endpoint().port();
  }
  test::SessionFixture f(allow_loopback(closed_port));
  f.start({test::tunnel_to("127.0.0.1", closed_port)});
  std::string told;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        told = co_await test::read_all(f.client);
        f.client.close();  // as a client does once it has read the answer
      },
      asio::detached);
  const auto records = f.records();
  CHECK(told.rfind("HTTP/1.1 502 ", 0) == 0);
  REQUIRE(records.size() == 1);
  CHECK(records[0].event == Event::Error);
  CHECK(records[0].reason == Reason::ConnectRefused);
  CHECK(records[0].decision == audit::Decision::Allow);
  CHECK(records[0].connect_ms >= 0);
}

TEST_CASE("stopping ends a lookup at once, and the exchange leaves its record",
          "[proxy][session]") {
  // A DNS server that never answers, and a lookup that would wait 3 s.
  asio::io_context io;
  asio::ip::udp::socket silent(io, asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0));
  ProxyOptions options;
  options.dns_servers.push_back(
      *Endpoint::parse("127.0.0.1:" + std::to_string(silent.local_endpoint().port())));
  options.dns_timeout = 3s;
  test::SessionFixture f(
      "version: 1\nrules:\n  - {id: slow, ports: [443], destinations: [slow.example]}\n", options);
  auto session = f.start({test::tunnel_to("slow.example", 443)});
  asio::steady_timer later(f.io, 100ms);
  // As the worker stops it: the session is alive only through its coroutine.
  later.async_wait([weak = std::weak_ptr<Session>(session)](const error_code&) {
    if (const auto alive = weak.lock()) alive->cancel();
  });
  session.reset();
  const auto records = f.records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].reason == Reason::Shutdown);
  // Ended when it was stopped, not when the lookup would have (the flight
  // itself goes on in c-ares, for whoever else waits for the name).
  CHECK(records[0].duration_ms < 1000);
  CHECK(records[0].host == "slow.example");
}

TEST_CASE("through a parent: the tunnel asks it, and its answer is recorded", "[proxy][session]") {
  // The parent answers 200, then the destination's first bytes, then echoes.
  const auto parent_serves = [](tcp::socket socket) -> asio::awaitable<void> {
    std::string head;
    error_code ec;
    co_await asio::async_read_until(socket, asio::dynamic_buffer(head), "\r\n\r\n", await_into(ec));
    const bool asked = head.rfind("CONNECT files.example:443 HTTP/1.1\r\n", 0) == 0;
    const std::string answer = asked ? "HTTP/1.1 200 OK\r\n\r\nbanner" : "HTTP/1.1 400 Bad\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(answer), await_into(ec));
    head.erase(0, head.find("\r\n\r\n") + 4);
    co_await asio::async_read(socket, asio::dynamic_buffer(head), await_into(ec));
  };
  test::SessionFixture f(
      "version: 1\nrules:\n  - {id: files, ports: [443], destinations: [files.example]}\n");
  test::Server parent(f.io, parent_serves);
  f.options.upstream_proxy =
      UpstreamProxy::parse("http://127.0.0.1:" + std::to_string(parent.port()));
  f.start({test::tunnel_to("files.example", 443)});
  std::string told;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        error_code ec;
        std::string head;
        co_await asio::async_read_until(f.client, asio::dynamic_buffer(head), "banner",
                                        await_into(ec));
        told = head;
        f.client.shutdown(tcp::socket::shutdown_send);
        co_await test::read_all(f.client);
      },
      asio::detached);
  const auto records = f.records();
  CHECK(told == "HTTP/1.1 200 Connection established\r\n\r\nbanner");
  REQUIRE(records.size() == 2);
  CHECK(records[0].event == Event::Open);
  CHECK(records[0].upstream_proxy == "127.0.0.1:" + std::to_string(parent.port()));
  CHECK(records[0].upstream_proxy_status == 200);
  CHECK(records[1].bytes_down == 6);
}

TEST_CASE("a parent's refusal is the client's 502, naming the parent", "[proxy][session]") {
  const auto parent_refuses = [](tcp::socket socket) -> asio::awaitable<void> {
    std::string head;
    error_code ec;
    co_await asio::async_read_until(socket, asio::dynamic_buffer(head), "\r\n\r\n", await_into(ec));
    const std::string answer = "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(answer), await_into(ec));
  };
  test::SessionFixture f(
      "version: 1\nrules:\n  - {id: files, ports: [443], destinations: [files.example]}\n");
  test::Server parent(f.io, parent_refuses);
  f.options.upstream_proxy =
      UpstreamProxy::parse("http://127.0.0.1:" + std::to_string(parent.port()));
  f.start({test::tunnel_to("files.example", 443)});
  std::string told;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        told = co_await test::read_all(f.client);
        f.client.close();  // as a client does once it has read the answer
      },
      asio::detached);
  const auto records = f.records();
  CHECK(told.rfind("HTTP/1.1 502 ", 0) == 0);
  CHECK(told.find("error=proxy_configuration_error") != std::string::npos);
  CHECK(told.find("received-status=407") != std::string::npos);
  REQUIRE(records.size() == 1);
  CHECK(records[0].reason == Reason::UpstreamProxyRefused);
  CHECK(records[0].upstream_proxy_status == 407);
}
