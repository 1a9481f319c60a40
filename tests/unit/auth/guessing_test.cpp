// Password guessing under attack (issue 19): the failure budgets, the
// hashing pool's bounds, and the authenticator that uses them.
#include <atomic>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/auth/failure_budget.hpp>
#include <chokepoint/auth/hashing_pool.hpp>

using namespace chokepoint;
using namespace chokepoint::auth;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const auto t0 = Clock::time_point() + 1000h;

// Sleeps on the loop until `done()` (the pool's thread, not the loop, makes it true).
template <class Done>
asio::awaitable<void> until(Done done) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!done()) {
    timer.expires_after(1ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// Runs `body` as a coroutine on a loop of its own until it ends.
template <class Body>
void run(Body body) {
  asio::io_context io;
  asio::co_spawn(io, std::move(body), asio::detached);
  io.run();
}

}  // namespace

TEST_CASE("a key's failures cost nothing at first, then time", "[auth][budget]") {
  FailureBudget budget(BudgetOptions{3, 1s, 8s, 15min, 100});
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(budget.wait("client", t0));
    budget.failed("client", t0);
  }
  CHECK_FALSE(budget.wait("client", t0));
  budget.failed("client", t0);  // the fourth
  CHECK(budget.wait("client", t0) == 1s);
  CHECK_FALSE(budget.wait("other", t0));
  budget.failed("client", t0 + 1s);
  CHECK(budget.wait("client", t0 + 1s) == 2s);
  budget.failed("client", t0 + 3s);
  budget.failed("client", t0 + 7s);
  budget.failed("client", t0 + 15s);
  CHECK(budget.wait("client", t0 + 15s) == 8s);  // at most max_backoff
  // A success starts the key afresh.
  budget.succeeded("client");
  CHECK_FALSE(budget.wait("client", t0 + 15s));
  // So does a long enough quiet.
  for (int i = 0; i < 5; ++i)
    budget.failed("quiet", t0);
  CHECK(budget.wait("quiet", t0));
  budget.failed("quiet", t0 + 16min);
  CHECK_FALSE(budget.wait("quiet", t0 + 16min));
}

TEST_CASE("a failure budget holds bounded memory", "[auth][budget]") {
  FailureBudget budget(BudgetOptions{1, 1s, 8s, 15min, 64});
  for (int i = 0; i < 10000; ++i)
    budget.failed("k" + std::to_string(i), t0 + std::chrono::milliseconds(i));
  CHECK(budget.size() <= 64);
}

TEST_CASE("the hashing pool bounds its queue and each client's share", "[auth][pool]") {
  HashingPool pool(HashingOptions{1, 6, 2, 10s});
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::atomic<int> ran{0};
  const auto slow = [&] {
    started = true;
    while (!release)
      std::this_thread::sleep_for(1ms);
    ++ran;
    return true;
  };
  std::vector<Hashed> outcomes;
  run([&]() -> asio::awaitable<void> {
    // One guesser: two checks held (one running, one queued), the rest refused at once.
    std::vector<Hashed> got;
    for (int i = 0; i < 5; ++i) {
      asio::co_spawn(
          co_await asio::this_coro::executor,
          [&]() -> asio::awaitable<void> {
            const HashingResult r = co_await pool.run(slow, Requester{"guesser", nullptr});
            outcomes.push_back(r.outcome);
          },
          asio::detached);
    }
    co_await until([&] { return started.load(); });  // the pool's thread took the first
    // Others fill the rest of the queue (six queued, the running one apart);
    // past it, everyone is refused.
    for (int i = 0; i < 6; ++i) {
      asio::co_spawn(
          co_await asio::this_coro::executor,
          [&, i]() -> asio::awaitable<void> {
            const HashingResult r =
                co_await pool.run(slow, Requester{"agent" + std::to_string(i), nullptr});
            outcomes.push_back(r.outcome);
          },
          asio::detached);
    }
    // Every check asked before any ends: the queue's bounds, not timing.
    co_await until([&] { return pool.stats().queued + pool.stats().busy == 7; });
    release = true;
  });
  const auto count = [&](Hashed h) { return std::count(outcomes.begin(), outcomes.end(), h); };
  CHECK(count(Hashed::ClientBusy) == 3);
  CHECK(count(Hashed::Busy) == 1);
  CHECK(count(Hashed::Done) == 7);
  CHECK(ran == 7);
}

TEST_CASE("a check nobody waits for any more is never computed", "[auth][pool]") {
  HashingPool pool(HashingOptions{1, 64, 64, 10s});
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::atomic<int> ran{0};
  const auto slow = [&] {
    started = true;
    while (!release)
      std::this_thread::sleep_for(1ms);
    ++ran;
    return true;
  };
  // One cancellation per connection: each registers its one wait.
  Cancellation hung_up[4];
  std::vector<Hashed> outcomes;
  run([&]() -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    // The first occupies the thread; the next three queue behind it.
    for (int i = 0; i < 4; ++i) {
      asio::co_spawn(
          executor,
          [&, i]() -> asio::awaitable<void> {
            const HashingResult r =
                co_await pool.run(slow, Requester{"c", i == 0 ? nullptr : &hung_up[i]});
            outcomes.push_back(r.outcome);
          },
          asio::detached);
    }
    co_await until([&] { return started.load() && pool.stats().queued == 3; });
    for (int i = 1; i < 4; ++i)
      hung_up[i].request();  // those three clients hang up while queued
    release = true;
  });
  CHECK(std::count(outcomes.begin(), outcomes.end(), Hashed::Abandoned) == 3);
  // The pool's thread takes them off the queue in its own time.
  for (int i = 0; i < 5000 && pool.stats().queued > 0; ++i)
    std::this_thread::sleep_for(1ms);
  CHECK(pool.stats().dropped == 3);
  CHECK(ran == 1);
}

TEST_CASE("a check from a client without failures goes before a guesser's queue", "[auth][pool]") {
  HashingPool pool(HashingOptions{1, 64, 64, 10s});
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::mutex order_mutex;
  std::vector<std::string> order;
  const auto work = [&](std::string who) {
    return [&, who] {
      started = true;
      while (!release)
        std::this_thread::sleep_for(1ms);
      std::lock_guard lock(order_mutex);
      order.push_back(who);
      return true;
    };
  };
  run([&]() -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    const auto ask = [&](std::string who, Lane lane) {
      asio::co_spawn(
          executor,
          [&, who, lane]() -> asio::awaitable<void> {
            co_await pool.run(work(who), Requester{who, nullptr}, lane);
          },
          asio::detached);
    };
    ask("running", Lane::Later);
    co_await until([&] { return started.load(); });
    for (int i = 0; i < 3; ++i)
      ask("guess" + std::to_string(i), Lane::Later);
    ask("agent", Lane::First);
    co_await until([&] { return pool.stats().queued == 4; });
    release = true;
    co_await until([&] { return pool.stats().done == 5; });
  });
  CHECK(order == std::vector<std::string>{"running", "agent", "guess0", "guess1", "guess2"});
}

TEST_CASE("stopping drops queued checks and posts nothing after", "[auth][pool]") {
  auto pool = std::make_unique<HashingPool>(HashingOptions{1, 64, 64, 10s});
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::atomic<int> ran{0};
  const auto slow = [&] {
    started = true;
    while (!release)
      std::this_thread::sleep_for(1ms);
    ++ran;
    return true;
  };
  {
    asio::io_context io;
    for (int i = 0; i < 5; ++i)
      asio::co_spawn(io, pool->run(slow, Requester{}), asio::detached);
    while (!started || pool->stats().queued < 4)
      io.run_for(1ms);
    std::thread stopper([&] { pool->stop(); });
    while (pool->stats().queued > 0)
      std::this_thread::sleep_for(1ms);
    release = true;
    stopper.join();
    // The io_context goes now, with its waiting coroutines: the pool must
    // not touch it any more (issue 19: exit 139 in offload.hpp).
  }
  CHECK(ran == 1);
  CHECK(pool->stats().dropped == 4);
  pool.reset();
}

namespace {

std::map<std::string, PasswordHash> one_user() {
  return {{"agent", hash_password("right", 1000)}};
}

Verdict check(Authenticator& a, std::string user, std::string password, std::string network,
              int thread = 0) {
  Verdict verdict;
  run([&]() -> asio::awaitable<void> {
    verdict = co_await a.check_password(thread, user, password, Requester{network, nullptr});
  });
  return verdict;
}

}  // namespace

TEST_CASE("a guessing client waits; a client that knows the password does not",
          "[auth][guessing]") {
  Authenticator authenticator(one_user(), AuthOptions{});
  // Five failures are free; the sixth makes the client wait.
  for (int i = 0; i < 6; ++i)
    CHECK(check(authenticator, "agent", "guess" + std::to_string(i), "guesser").outcome ==
          Outcome::Invalid);
  const Verdict refused = check(authenticator, "agent", "right", "guesser");
  CHECK(refused.outcome == Outcome::Throttled);
  CHECK(refused.retry_after > 0ms);
  CHECK(refused.detail.find("too many failed logins from this client") != std::string::npos);
  CHECK(check(authenticator, "agent", "right", "agent-host").outcome == Outcome::Ok);
  CHECK(authenticator.stats().throttled_client == 1);
}

TEST_CASE("a name guessed at from everywhere waits, except where it logs in from",
          "[auth][guessing]") {
  AuthOptions options;
  options.threads = 2;
  options.per_user.free_failures = 3;
  Authenticator authenticator(one_user(), options);
  CHECK(check(authenticator, "agent", "right", "agent-host").outcome == Outcome::Ok);
  for (int i = 0; i < 4; ++i)
    CHECK(check(authenticator, "agent", "guess", "guesser-" + std::to_string(i)).outcome ==
          Outcome::Invalid);
  // A fresh guesser is refused unchecked: the name must wait. (The right
  // password would pass from anywhere: thread 0 remembers it.)
  const Verdict refused = check(authenticator, "agent", "guess", "guesser-new");
  CHECK(refused.outcome == Outcome::Throttled);
  CHECK(refused.detail.find("for user agent") != std::string::npos);
  // The agent's own network is not locked out (checked on another thread,
  // whose cache does not remember the credential).
  CHECK(check(authenticator, "agent", "right", "agent-host", 1).outcome == Outcome::Ok);
  // Unknown names do not count against a name (only against the client).
  for (int i = 0; i < 4; ++i)
    check(authenticator, "nobody", "guess", "other-" + std::to_string(i));
  CHECK(check(authenticator, "nobody", "guess", "other-new").outcome == Outcome::Invalid);
}
