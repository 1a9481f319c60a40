// Sockets the data plane makes itself (accept4 and socket with
// SOCK_NONBLOCK): non-blocking and close-on-exec from the call that made
// them, and to Asio still sockets whose synchronous calls wait, as any
// socket it made itself.
#include <fcntl.h>
#include <thread>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <chokepoint/net/owned_socket.hpp>

using namespace chokepoint;

namespace {

bool non_blocking(tcp::socket& s) {
  return (::fcntl(s.native_handle(), F_GETFL) & O_NONBLOCK) != 0;
}
bool close_on_exec(tcp::socket& s) {
  return (::fcntl(s.native_handle(), F_GETFD) & FD_CLOEXEC) != 0;
}

struct Listening {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  Listening() { acceptor.native_non_blocking(true); }
};

}  // namespace

TEST_CASE("owned socket: accepted with its client's address, or would_block", "[net][owned]") {
  Listening l;
  tcp::socket accepted(l.io);
  tcp::endpoint peer;
  CHECK(net::accept_owned(l.acceptor, accepted, peer) == asio::error::would_block);
  CHECK_FALSE(accepted.is_open());

  tcp::socket client(l.io);
  client.connect(l.acceptor.local_endpoint());
  REQUIRE_FALSE(net::accept_owned(l.acceptor, accepted, peer));
  CHECK(peer == client.local_endpoint());
  CHECK(accepted.remote_endpoint() == client.local_endpoint());
  CHECK(non_blocking(accepted));
  CHECK(close_on_exec(accepted));
}

TEST_CASE("owned socket: opened non-blocking and close-on-exec", "[net][owned]") {
  asio::io_context io;
  tcp::socket socket(io);
  REQUIRE_FALSE(net::open_owned(socket, tcp::v6()));
  CHECK(socket.is_open());
  CHECK(socket.local_endpoint().protocol() == tcp::v6());
  CHECK(non_blocking(socket));
  CHECK(close_on_exec(socket));
}

// Asio's own flag, not the descriptor's: set as "non-blocking for Asio's
// use", a synchronous read waits; set as the user's, it would say would_block.
TEST_CASE("owned socket: synchronous calls still wait, asynchronous ones complete",
          "[net][owned]") {
  Listening l;
  tcp::socket client(l.io);
  client.connect(l.acceptor.local_endpoint());
  tcp::socket accepted(l.io);
  tcp::endpoint peer;
  REQUIRE_FALSE(net::accept_owned(l.acceptor, accepted, peer));

  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    asio::write(client, asio::buffer("late", 4));
  });
  char buffer[4];
  error_code ec;
  const std::size_t n = asio::read(accepted, asio::buffer(buffer), ec);
  writer.join();
  CHECK_FALSE(ec);
  CHECK(std::string_view(buffer, n) == "late");

  tcp::socket dialled(l.io);
  REQUIRE_FALSE(net::open_owned(dialled, tcp::v4()));
  bool connected = false;
  dialled.async_connect(l.acceptor.local_endpoint(),
                        [&](const error_code& connect_ec) { connected = !connect_ec; });
  l.io.run_for(std::chrono::seconds(5));
  CHECK(connected);
  tcp::socket second(l.io);
  CHECK_FALSE(net::accept_owned(l.acceptor, second, peer));
}
