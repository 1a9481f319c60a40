// Password checks off the I/O threads: a few threads of their own work
// through a bounded queue of checks, and the caller's coroutine resumes on
// its own thread with the result.
//
// Hashing is slow on purpose (a quarter of a second of CPU each), so the
// queue is where one guesser could make everyone wait. It holds at most
// `capacity` checks, and one client (a client_key) at most `per_client` of
// them, queued or running: past either, a check is refused at once instead
// of queued. A check whose caller stopped waiting (its client hung up, the
// proxy is stopping, `max_wait` passed) is dropped before it is computed.
//
// stop() drops every queued check and returns once no thread runs one: no
// result is posted to any executor after it, so it must come before the
// callers' io_contexts go.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/cancellation.hpp>

namespace chokepoint::auth {

struct HashingOptions {
  int threads = 2;
  std::size_t capacity = 64;
  std::size_t per_client = 4;
  std::chrono::milliseconds max_wait{10'000};
};

enum class Hashed : std::uint8_t {
  Done,        // the work ran: see the result
  Busy,        // the queue was full: not queued
  ClientBusy,  // the client's share of the queue was full: not queued
  Abandoned,   // the caller stopped waiting (cancelled, or max_wait passed)
};

enum class Lane : std::uint8_t {
  First,  // served before any Later check
  Later,
};

struct HashingResult {
  Hashed outcome = Hashed::Abandoned;
  bool value = false;  // the work's result, when Done
};

struct HashingStats {
  std::uint64_t done = 0;
  std::uint64_t busy = 0;
  std::uint64_t client_busy = 0;
  std::uint64_t dropped = 0;  // queued, then dropped uncomputed
  std::size_t queued = 0;     // a gauge
};

class HashingPool {
 public:
  explicit HashingPool(HashingOptions options);
  ~HashingPool();
  HashingPool(const HashingPool&) = delete;
  HashingPool& operator=(const HashingPool&) = delete;

  // Runs `work` on the pool on behalf of `requester` and resumes on the
  // caller's executor. `work` must own what it uses: it may run after the
  // caller has stopped waiting.
  asio::awaitable<HashingResult> run(std::function<bool()> work, Requester requester,
                                     Lane lane = Lane::Later);

  void stop();
  HashingStats stats() const;

 private:
  struct Waiting;
  struct Job {
    std::function<bool()> work;
    std::string client;
    std::weak_ptr<Waiting> waiting;  // expired: nobody waits any more
    asio::any_io_executor executor;
    std::chrono::steady_clock::time_point deadline;
  };
  void serve();
  void release(const std::string& client);
  std::size_t queued() const { return first_.size() + later_.size(); }

  HashingOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> first_;
  std::deque<Job> later_;
  std::unordered_map<std::string, std::size_t> per_client_;  // queued or running
  bool stopping_ = false;
  HashingStats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace chokepoint::auth
