// One I/O thread's audit records on their way to the audit log: numbered
// (ids unique across threads and restarts), counted in the thread's
// metrics, refusal floods summarised (src/proxy/refusal_throttle.hpp),
// handed over once per turn of the event loop, and, failing closed
// (--audit-on-failure refuse), acknowledged, so a connection can wait until
// its own record is written. The exchange records (src/proxy/
// exchange_record.hpp) are its only writers. One thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/async_event.hpp>
#include <chokepoint/core/client_network.hpp>
#include <chokepoint/proxy/metrics.hpp>

namespace chokepoint::proxy {

class RefusalThrottle;

class RecordQueue {
 public:
  struct Options {
    int thread = 0;            // the audit log's producer index
    std::string id_prefix;     // the process's tag
    bool fail_closed = false;  // --audit-on-failure refuse
    ClientPrefixes prefixes;   // whose refusals are summarised together
  };
  RecordQueue(asio::io_context& io, audit::AuditLog& log, Metrics& metrics, Options options);
  ~RecordQueue();
  RecordQueue(const RecordQueue&) = delete;
  RecordQueue& operator=(const RecordQueue&) = delete;

  // A fresh connection id: "<process tag>-<thread>-<counter>".
  std::string next_id();
  // Queues a finished record (a refusal may go into a summary instead).
  void write(audit::Record&& record);
  // Queues a copy of an open record (it goes on to become the close).
  void write(const audit::Record& record);

  bool fail_closed() const { return options_.fail_closed; }
  // Failing closed: waits until every record queued so far has reached the
  // sinks. True when all of them were written; false when any was lost, or
  // the audit thread did not answer within kWait (then nothing may go through).
  asio::awaitable<bool> written();
  static constexpr std::chrono::seconds kWait{5};

  // The summaries of the seconds before `now` (every one, for time_point::max()).
  void flush_summaries(std::chrono::steady_clock::time_point now);
  // The event loop has ended: what is queued goes now, and every later
  // record at once (destructors writing while the loop's work is ended).
  void loop_ended();

 private:
  void schedule_flush();
  void flush();
  void committed(std::uint64_t through, bool ok);

  asio::io_context& io_;
  audit::AuditLog& log_;
  Metrics& metrics_;
  Options options_;
  std::unique_ptr<RefusalThrottle> throttle_;
  std::vector<audit::Record> batch_;  // records of this turn of the loop
  std::uint64_t next_id_ = 0;
  bool flush_posted_ = false;
  bool loop_ended_ = false;
  // Failing closed: records handed over, what the audit log has dealt
  // with, and the connections waiting for their records.
  struct Waiter {
    std::uint64_t through;
    AsyncEvent* done;
    bool* ok;
  };
  std::uint64_t submitted_ = 0;
  std::uint64_t committed_ = 0;
  std::uint64_t failed_through_ = 0;
  std::deque<Waiter> waiters_;
  bool urgent_ = false;
};

}  // namespace chokepoint::proxy
