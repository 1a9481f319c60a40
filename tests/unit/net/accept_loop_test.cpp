// The accept loop of the listeners and the admin endpoint: connections go to
// their handler with the client's address; an accept the kernel refuses
// (here: out of descriptors, by a lowered RLIMIT_NOFILE) is retried after
// kAcceptBackoff, or at once when the caller dealt with it; closing the
// acceptor ends the loop.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chokepoint/net/accept_loop.hpp>

using namespace chokepoint;

// The tests that run out of descriptors are hidden in the sanitizer build:
// UBSan's vptr check probes memory through pipe(2), which fails there too,
// and it then reports every virtual call as a type error (seen in Asio's
// timer service). The normal build runs them.
#if CHOKEPOINT_SANITIZED
#define OUT_OF_DESCRIPTORS "[net][accept][.]"
#else
#define OUT_OF_DESCRIPTORS "[net][accept]"
#endif

namespace {

// Lowers the descriptor limit so that the next descriptor cannot be had;
// puts it back when told or at the end.
class NoDescriptors {
 public:
  NoDescriptors() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    const int lowest_free = ::open("/dev/null", O_RDONLY);
    ::close(lowest_free);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(lowest_free);
    ::setrlimit(RLIMIT_NOFILE, &low);
  }
  ~NoDescriptors() { end(); }
  void end() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

struct Listening {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::socket client{io};
  Listening() { client.connect(acceptor.local_endpoint()); }
};

using Clock = std::chrono::steady_clock;

// Runs a loop on `l` until its first connection, which closes the acceptor
// (ending the loop); returns when that connection came (epoch: never).
Clock::time_point accept_one(Listening& l, net::AcceptLoop::Refused refused) {
  Clock::time_point accepted_at{};
  net::AcceptLoop loop(
      l.acceptor,
      [&](tcp::socket, const tcp::endpoint&) {
        accepted_at = Clock::now();
        l.acceptor.close();
      },
      std::move(refused));
  loop.start();
  l.io.run_for(std::chrono::seconds(5));
  return accepted_at;
}

}  // namespace

TEST_CASE("accept loop: each connection with its client's address, until closed", "[net][accept]") {
  Listening l;
  tcp::endpoint seen;
  int accepted = 0;
  net::AcceptLoop loop(
      l.acceptor,
      [&](tcp::socket socket, const tcp::endpoint& peer) {
        ++accepted;
        seen = peer;
        CHECK(socket.is_open());
        l.acceptor.close();  // the loop ends with the acceptor
      },
      [](const error_code&) { return false; });
  loop.start();
  l.io.run_for(std::chrono::seconds(5));
  CHECK(l.io.stopped());  // nothing left pending
  CHECK(accepted == 1);
  CHECK(seen == l.client.local_endpoint());
}

TEST_CASE("accept loop: a refused accept is retried after the backoff", OUT_OF_DESCRIPTORS) {
  Listening l;
  int refusals = 0;
  Clock::time_point first_refusal{};
  NoDescriptors no_descriptors;
  const Clock::time_point accepted_at = accept_one(l, [&](const error_code& ec) {
    CHECK(ec == asio::error::no_descriptors);
    if (++refusals == 1) first_refusal = Clock::now();
    if (refusals == 2) no_descriptors.end();
    return false;
  });
  no_descriptors.end();
  CHECK(refusals == 2);
  REQUIRE(accepted_at != Clock::time_point{});
  // Two waits: after the first refusal, and after the second.
  CHECK(accepted_at - first_refusal >= 2 * net::kAcceptBackoff);
}

TEST_CASE("accept loop: a refusal the caller dealt with is retried at once", OUT_OF_DESCRIPTORS) {
  Listening l;
  int refusals = 0;
  Clock::time_point refused_at{};
  NoDescriptors no_descriptors;
  const Clock::time_point accepted_at = accept_one(l, [&](const error_code&) {
    ++refusals;
    refused_at = Clock::now();
    no_descriptors.end();  // as the admin endpoint's spare descriptor does
    return true;
  });
  CHECK(refusals == 1);
  REQUIRE(accepted_at != Clock::time_point{});
  CHECK(accepted_at - refused_at < net::kAcceptBackoff);
}

TEST_CASE("accept loop: closed while backing off, it ends", OUT_OF_DESCRIPTORS) {
  Listening l;
  int refusals = 0;
  NoDescriptors no_descriptors;
  net::AcceptLoop loop(
      l.acceptor, [&](tcp::socket, const tcp::endpoint&) { FAIL("accepted after close"); },
      [&](const error_code&) {
        ++refusals;
        no_descriptors.end();
        l.acceptor.close();  // draining: stop accepting
        return false;
      });
  loop.start();
  l.io.run_for(std::chrono::seconds(5));
  CHECK(l.io.stopped());
  CHECK(refusals == 1);
}
