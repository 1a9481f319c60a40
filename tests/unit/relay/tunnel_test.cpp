// The relay over real loopback sockets: exact bytes both ways, half-close in
// either order, and the copy path forced.
#include <future>
#include <random>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <chokepoint/relay/tunnel.hpp>

using namespace chokepoint;
using namespace chokepoint::relay;

namespace {

std::string pattern(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  std::mt19937 rng(seed);
  for (auto& c : out)
    c = static_cast<char>(rng());
  return out;
}

// A connected pair of loopback sockets: `far` for the test, `near` for the relay.
struct Pair {
  tcp::socket far;
  tcp::socket near;
};

Pair connected_pair(asio::io_context& far_io, asio::io_context& near_io) {
  tcp::acceptor acceptor(near_io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket far(far_io);
  far.connect(acceptor.local_endpoint());
  tcp::socket near(near_io);
  acceptor.accept(near);
  return Pair{std::move(far), std::move(near)};
}

std::string read_all(tcp::socket& socket) {
  std::string out;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(out), ec);
  REQUIRE(ec == asio::error::eof);
  return out;
}

struct Harness {
  asio::io_context test_io;  // blocking sockets of the test side
  asio::io_context relay_io;
  BufferBudget budget;
  PipePool pipes;
  Pair client;
  Pair upstream;
  std::unique_ptr<Tunnel> tunnel;
  std::promise<TunnelResult> done;
  std::thread thread;

  explicit Harness(bool force_copy, std::uint64_t already_up = 0, std::size_t budget_bytes = 0)
      : budget(budget_bytes),
        pipes(std::size_t{1} << 18, 64, &budget),
        client(connected_pair(test_io, relay_io)),
        upstream(connected_pair(test_io, relay_io)) {
    TunnelOptions options;
    options.force_copy = force_copy;
    options.half_close_timeout = std::chrono::minutes(1);
    // The sessions' sockets are non-blocking after their first async operation; these were made
    // blocking.
    client.near.native_non_blocking(true);
    upstream.near.native_non_blocking(true);
    tunnel = std::make_unique<Tunnel>(std::move(client.near), std::move(upstream.near), pipes,
                                      options, already_up);
    tunnel->start([this](const TunnelResult& r) {
      // Nothing of the tunnel is pending any more: it may go.
      tunnel.reset();
      done.set_value(r);
    });
    thread = std::thread([this] { relay_io.run(); });
  }
  ~Harness() {
    if (thread.joinable()) thread.join();
  }
  TunnelResult wait() {
    auto result = done.get_future().get();
    thread.join();
    return result;
  }
};

}  // namespace

TEST_CASE("relay moves exact bytes both ways", "[relay]") {
  const bool copy = GENERATE(false, true);
  const std::size_t size = GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{65536},
                                    std::size_t{3} << 20, std::size_t{64} << 20);
  INFO((copy ? "copy" : "splice") << " " << size << " bytes");
  Harness h(copy);
  const std::string up = pattern(size, 1);
  const std::string down = pattern(size / 2 + 3, 2);

  // Client sends everything and half-closes; the server reads to EOF, then
  // answers and closes: the answer must still arrive after the client's FIN.
  auto client_side = std::async(std::launch::async, [&] {
    asio::write(h.client.far, asio::buffer(up));
    h.client.far.shutdown(tcp::socket::shutdown_send);
    return read_all(h.client.far);
  });
  const std::string got_up = read_all(h.upstream.far);
  asio::write(h.upstream.far, asio::buffer(down));
  h.upstream.far.shutdown(tcp::socket::shutdown_send);
  const std::string got_down = client_side.get();

  const TunnelResult r = h.wait();
  CHECK(got_up == up);
  CHECK(got_down == down);
  CHECK(r.bytes_up == up.size());
  CHECK(r.bytes_down == down.size());
  CHECK(r.end == EndReason::Eof);
  CHECK(to_string(r.path) == std::string(copy ? "copy" : "splice"));
  CHECK(r.ended_by == EndedBy::Client);        // the client's FIN came first
  CHECK(h.pipes.idle() == h.pipes.created());  // every pipe came back
}

TEST_CASE("relay copies instead of splicing while the buffer budget is spent", "[relay]") {
  // Less room than one 256 KiB pipe: both directions copy (16 KiB buffers,
  // granted past the budget); every byte still arrives in order, and the
  // budget is whole again when the tunnel ends.
  Harness h(false, 0, std::size_t{64} << 10);
  const std::string up = pattern(std::size_t{4} << 20, 3);
  const std::string down = pattern(std::size_t{3} << 20, 4);
  auto client_side = std::async(std::launch::async, [&] {
    asio::write(h.client.far, asio::buffer(up));
    h.client.far.shutdown(tcp::socket::shutdown_send);
    return read_all(h.client.far);
  });
  auto upstream_side = std::async(std::launch::async, [&] {
    asio::write(h.upstream.far, asio::buffer(down));
    h.upstream.far.shutdown(tcp::socket::shutdown_send);
  });
  const std::string got_up = read_all(h.upstream.far);
  upstream_side.get();
  const std::string got_down = client_side.get();
  const TunnelResult r = h.wait();
  CHECK(got_up == up);
  CHECK(got_down == down);
  CHECK(to_string(r.path) == std::string("copy"));
  CHECK(h.budget.used() == 0);
  CHECK(!h.budget.spent());
}

TEST_CASE("buffer budget refuses what does not fit and gives back exactly", "[relay]") {
  BufferBudget budget(1000);
  CHECK(budget.try_take(600));
  CHECK_FALSE(budget.try_take(401));
  CHECK(budget.used() == 600);
  CHECK(budget.try_take(400));
  CHECK(budget.spent());
  budget.give_back(1000);
  CHECK(budget.used() == 0);
  BufferBudget unlimited;
  CHECK(unlimited.try_take(std::size_t{1} << 40));
  CHECK_FALSE(unlimited.spent());
}

TEST_CASE("relay half-close from the server side first", "[relay]") {
  Harness h(false);
  // The server speaks first and closes its sending side; the client keeps talking.
  asio::write(h.upstream.far, asio::buffer("banner\n", 7));
  h.upstream.far.shutdown(tcp::socket::shutdown_send);
  std::string banner(7, '\0');
  asio::read(h.client.far, asio::buffer(banner));
  CHECK(banner == "banner\n");
  asio::write(h.client.far, asio::buffer("late request", 12));
  h.client.far.shutdown(tcp::socket::shutdown_send);
  CHECK(read_all(h.upstream.far) == "late request");
  CHECK(read_all(h.client.far).empty());
  const TunnelResult r = h.wait();
  CHECK(r.bytes_up == 12);
  CHECK(r.bytes_down == 7);
  CHECK(r.end == EndReason::Eof);
  CHECK(r.ended_by == EndedBy::Upstream);
}

TEST_CASE("relay counts bytes sent before it started", "[relay]") {
  Harness h(false, 42);
  h.client.far.shutdown(tcp::socket::shutdown_send);
  CHECK(read_all(h.upstream.far).empty());
  h.upstream.far.shutdown(tcp::socket::shutdown_send);
  CHECK(read_all(h.client.far).empty());
  CHECK(h.wait().bytes_up == 42);
}

TEST_CASE("a reset ends both directions", "[relay]") {
  Harness h(false);
  asio::write(h.client.far, asio::buffer("x", 1));
  std::string one(1, '\0');
  asio::read(h.upstream.far, asio::buffer(one));
  // SO_LINGER 0 turns close into a reset.
  h.upstream.far.set_option(asio::socket_base::linger(true, 0));
  h.upstream.far.close();
  const TunnelResult r = h.wait();
  CHECK(r.end == EndReason::Reset);
  CHECK(r.ended_by == EndedBy::Upstream);
  boost::system::error_code ec;
  char byte;
  h.client.far.read_some(asio::buffer(&byte, 1), ec);
  // The client gets a reset too, never a clean end: a cut transfer must not look whole.
  CHECK(ec == asio::error::connection_reset);
}

TEST_CASE("a half-closed tunnel times out sooner than an idle one", "[relay]") {
  Harness h(false);
  using std::chrono::milliseconds;
  std::promise<std::pair<bool, bool>> seen;
  // Nothing closed yet: only the idle timeout (an hour) applies.
  asio::post(h.relay_io, [&] {
    const auto later = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    seen.set_value({!h.tunnel->timed_out(later).has_value(),
                    h.tunnel->timed_out(later + std::chrono::hours(1)) == EndReason::IdleTimeout});
  });
  const auto [open_ok, idle_ok] = seen.get_future().get();
  CHECK(open_ok);
  CHECK(idle_ok);
  // The client closes its side; the upstream never reads nor answers.
  h.client.far.shutdown(tcp::socket::shutdown_send);
  std::string nothing(1, '\0');
  boost::system::error_code ec;
  h.upstream.far.read_some(asio::buffer(nothing), ec);
  REQUIRE(ec == asio::error::eof);  // the FIN went on
  std::promise<std::optional<EndReason>> half;
  asio::post(h.relay_io, [&] {
    half.set_value(h.tunnel->timed_out(std::chrono::steady_clock::now() + std::chrono::minutes(2)));
  });
  CHECK(half.get_future().get() == EndReason::HalfCloseTimeout);
  asio::post(h.relay_io, [&] { h.tunnel->stop(EndReason::HalfCloseTimeout); });
  CHECK(h.wait().end == EndReason::HalfCloseTimeout);
}

TEST_CASE("stop ends an idle tunnel with its reason", "[relay]") {
  Harness h(false);
  asio::post(h.relay_io, [&] { h.tunnel->stop(EndReason::IdleTimeout); });
  const TunnelResult r = h.wait();
  CHECK(r.end == EndReason::IdleTimeout);
  CHECK(r.ended_by == EndedBy::Proxy);
  CHECK(h.pipes.idle() <= h.pipes.created());
}
