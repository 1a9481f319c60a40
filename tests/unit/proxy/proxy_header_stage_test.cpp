// The PROXY header stage (src/proxy/proxy_header_stage.hpp) over real
// loopback sockets, with the balancer's bytes arriving one at a time, in
// small pieces and at once: the same outcome every time, exactly the header
// consumed, and the client's own bytes left for the destination source.
#include "proxy_header_stage.hpp"

#include <catch2/catch.hpp>

#include "stage_fixture.hpp"
#include "test_bytes.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy;
using audit::Reason;
using Outcome = ProxyHeader::Outcome;

namespace {

struct Read {
  ProxyHeader header;
  std::string left;   // what the stage left in the client's buffer
  std::string first;  // the client's own first bytes, as the stage left them
};

// Runs the stage while `bytes` arrive in pieces of `piece` bytes; `close`
// ends the balancer's sending side after them.
Read read(const std::string& bytes, std::size_t piece, bool close,
          std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  test::StageFixture f;
  asio::io_context& io = f.io;
  test::SocketPair pair(io);
  ClientConnection client(std::move(pair.near));
  Read out;
  asio::co_spawn(io, test::send_in_pieces(pair.far, bytes, piece, close), asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        out.header = co_await read_proxy_header(client, deadline);
        out.left = std::string(client.unread());
        out.first = std::string(client.first_bytes());
        error_code ignored;
        pair.far.close(ignored);
      },
      asio::detached);
  io.restart();
  io.run();
  return out;
}

std::string vector(const std::string& name) {
  return test::source_file("tests/unit/proxy_protocol/vectors/" + name + ".bin");
}

}  // namespace

TEST_CASE("a balancer's header names the client; its bytes after stay", "[proxy][pp_stage]") {
  struct Row {
    const char* vector;
    const char* client;
  };
  // As HAProxy (send-proxy, send-proxy-v2, with TLVs) and nginx send them.
  const Row rows[] = {
      {"haproxy_v2_tcp4", "127.0.0.1:40742"},
      {"haproxy_v2_tcp6", "[::1]:44920"},
      {"haproxy_v2_tlvs", nullptr},
      {"haproxy_v1_tcp4", nullptr},
      {"nginx_v1_tcp4", nullptr},
      {"nginx_v1_tcp6", nullptr},
  };
  for (const Row& row : rows) {
    const std::string bytes = vector(row.vector);
    const auto payload_at = bytes.find("hello from the client\n");
    REQUIRE(payload_at != std::string::npos);
    for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
      INFO(row.vector << " in pieces of " << piece);
      const Read r = read(bytes, piece, false);
      REQUIRE(r.header.outcome == Outcome::Client);
      if (row.client) CHECK(r.header.client.to_string() == row.client);
      // Exactly the header was taken: what is left is the client's.
      CHECK(std::string("hello from the client\n").rfind(r.left, 0) == 0);
      if (piece == 4096) CHECK(r.left == "hello from the client\n");
      // The client's own first bytes are its own, not the balancer's.
      CHECK(std::string("hello from the client\n").rfind(r.first, 0) == 0);
    }
  }
}

TEST_CASE("a v4 client behind an IPv6 balancer is a v4 client", "[proxy][pp_stage]") {
  const Read r = read("PROXY TCP6 ::ffff:10.0.8.23 ::1 51514 3128\r\nGET", 4096, false);
  REQUIRE(r.header.outcome == Outcome::Client);
  CHECK(r.header.client.to_string() == "10.0.8.23:51514");
  CHECK(r.left == "GET");
}

TEST_CASE("health checks, and what is not a header", "[proxy][pp_stage]") {
  for (const std::size_t piece : {std::size_t{1}, std::size_t{4096}}) {
    INFO("pieces of " << piece);
    // HAProxy's check send-proxy-v2 (LOCAL), and a v1 UNKNOWN.
    CHECK(read(vector("haproxy_v2_local_check"), piece, true).header.outcome ==
          Outcome::HealthCheck);
    CHECK(read("PROXY UNKNOWN\r\n", piece, true).header.outcome == Outcome::HealthCheck);
    // HAProxy 2.6's v1 check names its own address as TCP4: nothing tells
    // it from a client's connection, so it is one (from the balancer).
    const Read v1_check = read(vector("haproxy_v1_check"), piece, true);
    CHECK(v1_check.header.outcome == Outcome::Client);
    CHECK(v1_check.header.client.to_string() == "127.0.0.1:50534");
    // A v2 PROXY for a UDP source names nobody the policy can judge.
    const std::string udp =
        test::hex("0d0a0d0a000d0a515549540a 2112000c c0000201 0a000005 d431 01bb");
    const Read u = read(udp, piece, true);
    CHECK(u.header.outcome == Outcome::Refused);
    CHECK(u.header.refusal == Reason::ProxyHeaderNoClient);
    // A client that skipped the balancer, or a balancer without send-proxy.
    const Read plain = read("CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n", piece, true);
    CHECK(plain.header.outcome == Outcome::Refused);
    CHECK(plain.header.refusal == Reason::ProxyHeaderMissing);
    const Read bad = read("PROXY TCP4 10.0.0.1 10.0.0.2 01 2\r\n", piece, true);
    CHECK(bad.header.outcome == Outcome::Refused);
    CHECK(bad.header.refusal == Reason::ProxyHeaderMalformed);
    CHECK_FALSE(bad.header.detail.empty());
  }
  // Connect and close (a TCP health check, an NLB's): nothing to record.
  CHECK(read("", 1, true).header.outcome == Outcome::Gone);
  // Part of a header, then the close.
  const Read cut = read("PROXY TCP4 10.0.", 1, true);
  CHECK(cut.header.outcome == Outcome::Refused);
  CHECK(cut.header.refusal == Reason::ClientClosed);
  // Nothing within the deadline.
  const Read silent = read("", 1, false, std::chrono::milliseconds(100));
  CHECK(silent.header.outcome == Outcome::Refused);
  CHECK(silent.header.refusal == Reason::ProxyHeaderMissing);
  CHECK(silent.header.detail == "no PROXY header within the head timeout");
}

TEST_CASE("nobody chooses their own address: a header from elsewhere is seen",
          "[proxy][pp_stage]") {
  test::StageFixture f;
  asio::io_context& io = f.io;
  const auto first_bytes_of = [&](const std::string& bytes) {
    test::SocketPair pair(io);
    ClientConnection client(std::move(pair.near));
    asio::write(pair.far, asio::buffer(bytes));
    pair.far.shutdown(tcp::socket::shutdown_send);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          // A destination source reads in whatever pieces it likes.
          error_code ec;
          while (!ec)
            client.commit(co_await client.read_some(ec));
        },
        asio::detached);
    io.restart();
    io.run();
    return forged_proxy_header(client);
  };
  CHECK(first_bytes_of("PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\nCONNECT x:443 HTTP/1.1\r\n\r\n"));
  CHECK(first_bytes_of(vector("haproxy_v2_tcp4")));
  CHECK_FALSE(first_bytes_of("CONNECT files.trendmicro.com:443 HTTP/1.1\r\n\r\n"));
  CHECK_FALSE(first_bytes_of("PROXY"));  // too few bytes to tell: not a header
  CHECK_FALSE(first_bytes_of(std::string("\x05\x01\x00", 3)));
  CHECK(from_trusted_balancer({*Cidr::parse("10.0.0.0/24")}, *IpAddress::parse("10.0.0.9")));
  CHECK_FALSE(from_trusted_balancer({*Cidr::parse("10.0.0.0/24")}, *IpAddress::parse("10.0.1.9")));
  CHECK_FALSE(from_trusted_balancer({}, *IpAddress::parse("10.0.0.9")));
}
