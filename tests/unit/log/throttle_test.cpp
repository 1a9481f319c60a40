// The one rate limit of operational messages: the first time at once, then
// at most a line per interval with the count since the last, none lost.
#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <chokepoint/log/throttle.hpp>

using chokepoint::log::Throttle;
using namespace std::chrono_literals;

TEST_CASE("throttle: at once, then once per interval with the count", "[log]") {
  Throttle throttle(10s);
  const Throttle::Clock::time_point t0{};
  CHECK(throttle.note(t0 + 100s) == 1);  // the first: said at once
  CHECK(throttle.note(t0 + 101s) == 0);
  CHECK(throttle.note(t0 + 105s, 4) == 0);
  CHECK(throttle.note(t0 + 109s) == 0);
  CHECK(throttle.note(t0 + 110s) == 7);  // the interval is over: all of them
  CHECK(throttle.note(t0 + 111s, 0) == 0);
  CHECK(throttle.note(t0 + 125s, 0) == 0);  // nothing held: nothing to say
  CHECK(throttle.note(t0 + 126s) == 1);     // quiet for a while: at once again
}

TEST_CASE("throttle: a final summary, and a line said otherwise", "[log]") {
  Throttle throttle(10s);
  const Throttle::Clock::time_point t0{};
  CHECK(throttle.take(t0) == 0);
  CHECK(throttle.note(t0 + 100s) == 1);
  CHECK(throttle.note(t0 + 101s, 2) == 0);
  CHECK(throttle.take(t0 + 102s) == 2);  // whatever the time
  CHECK(throttle.note(t0 + 103s) == 0);  // and the interval starts over
  throttle.restart(t0 + 120s);           // e.g. the first line of a new outage
  CHECK(throttle.note(t0 + 121s) == 0);
  CHECK(throttle.note(t0 + 130s) == 2);
}

TEST_CASE("throttle: workers sharing one lose no count", "[log]") {
  Throttle throttle(1ms);
  std::atomic<std::uint64_t> said{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i)
        said += throttle.note(Throttle::Clock::now());
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(said + throttle.take(Throttle::Clock::now()) == 80000);
}
