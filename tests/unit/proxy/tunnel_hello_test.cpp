// Inside an allowed tunnel, before anything is relayed (src/proxy/
// tunnel_hello.hpp, and the session's tunnel stage): a ClientHello naming
// another host that is not itself allowed is refused (domain fronting); a
// destination that speaks first has no TLS client to check.
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "client_hello_builder.hpp"
#include "session_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy;
using audit::Event;
using audit::Reason;

namespace {

// Says `banner` (if any), reads to the client's end, closes. (A coroutine
// of its own: a coroutine lambda's captures die with the lambda.)
asio::awaitable<void> listen(tcp::socket socket, std::string banner, std::string* received) {
  error_code ec;
  if (!banner.empty()) co_await asio::async_write(socket, asio::buffer(banner), await_into(ec));
  co_await asio::async_read(socket, asio::dynamic_buffer(*received), await_into(ec));
}

test::Server::Serve listen_after(std::string banner, std::string& received) {
  return [banner, &received](tcp::socket socket) {
    return listen(std::move(socket), banner, &received);
  };
}

// The loopback server's address may be tunnelled to, and so may
// files.example on its port (the name a hello may give).
std::string policy_for(std::uint16_t port) {
  const std::string p = std::to_string(port);
  return "version: 1\nrules:\n  - {id: loopback, ports: [" + p +
         "], destinations: [127.0.0.1/32]}\n  - {id: files, ports: [" + p +
         "], destinations: [files.example]}\n";
}

std::string hello_for(const std::string& name) {
  test::HelloOptions options;
  options.sni = name;
  return test::openssl_client_hello(options);
}

Learned checked_tunnel(std::uint16_t port) {
  Learned l = test::tunnel_to("127.0.0.1", port);
  l.check_tunnel_hello = true;
  return l;
}

// After the 200, sends `bytes`, ends its side, and reads what comes back.
asio::awaitable<void> send_after_200(tcp::socket& client, std::string bytes, std::string& told) {
  error_code ec;
  std::string head;
  co_await asio::async_read_until(client, asio::dynamic_buffer(head), "\r\n\r\n", await_into(ec));
  co_await asio::async_write(client, asio::buffer(bytes), await_into(ec));
  client.shutdown(tcp::socket::shutdown_send, ec);
  told = head + co_await test::read_all(client);
}

}  // namespace

TEST_CASE("a hello naming an allowed host goes through, first bytes first",
          "[proxy][tunnel_hello]") {
  test::SessionFixture f;
  std::string received;
  test::Server server(f.io, listen_after("", received));
  f.snapshot = test::snapshot_from(policy_for(server.port()));
  const std::string hello = hello_for("files.example");
  std::string told;
  f.start({checked_tunnel(server.port())});
  asio::co_spawn(f.io, send_after_200(f.client, hello, told), asio::detached);
  const auto records = f.records();
  CHECK(received == hello);
  REQUIRE(records.size() == 2);
  CHECK(records[1].event == Event::Close);
  CHECK(records[1].sni == "files.example");
  CHECK(records[1].bytes_up == hello.size());
}

TEST_CASE("a hello naming a host no rule allows is refused inside the tunnel",
          "[proxy][tunnel_hello]") {
  test::SessionFixture f;
  std::string received;
  test::Server server(f.io, listen_after("", received));
  f.snapshot = test::snapshot_from(policy_for(server.port()));
  const std::string hello = hello_for("evil.example");
  std::string told;
  f.start({checked_tunnel(server.port())});
  asio::co_spawn(f.io, send_after_200(f.client, hello, told), asio::detached);
  const auto records = f.records();
  CHECK(received.empty());  // not one byte of it reached the destination
  // After the 200: a fatal access_denied alert, then the close.
  CHECK(told.substr(told.find("\r\n\r\n") + 4) ==
        std::string(reinterpret_cast<const char*>(kTlsAccessDenied), sizeof kTlsAccessDenied));
  REQUIRE(records.size() == 3);
  CHECK(records[0].event == Event::Open);
  CHECK(records[1].event == Event::Deny);
  CHECK(records[1].id == records[0].id);
  CHECK(records[1].sni == "evil.example");
  CHECK(records[2].event == Event::Close);
  CHECK(records[2].end == audit::End::Denied);
}

TEST_CASE("a destination that speaks first is not waited for", "[proxy][tunnel_hello]") {
  test::SessionFixture f;
  std::string received;
  test::Server server(f.io, listen_after("SSH-2.0-test\r\n", received));
  f.snapshot = test::snapshot_from(policy_for(server.port()));
  std::string told;
  f.start({checked_tunnel(server.port())});
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        error_code ec;
        std::string in;
        co_await asio::async_read_until(f.client, asio::dynamic_buffer(in), "SSH-2.0-test\r\n",
                                        await_into(ec));
        co_await asio::async_write(f.client, asio::buffer(std::string("SSH-2.0-client\r\n")),
                                   await_into(ec));
        f.client.shutdown(tcp::socket::shutdown_send, ec);
        told = in + co_await test::read_all(f.client);
      },
      asio::detached);
  const auto records = f.records();
  CHECK(told.find("SSH-2.0-test\r\n") != std::string::npos);
  CHECK(received == "SSH-2.0-client\r\n");
  REQUIRE(records.size() == 2);
  CHECK(records[1].event == Event::Close);
  CHECK(records[1].sni.empty());
}
