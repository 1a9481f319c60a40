// The audit log: records go from the I/O threads into bounded per-thread
// queues, and one thread of its own hands them to the sinks (a file or
// stdout, syslog destinations). A relay never waits on the disk or a SIEM
// (DESIGN.md: "Writing a record never blocks the relay"); a record that
// cannot be queued or delivered is counted and reported on stderr, never
// silently dropped.
//
// For failing closed (--audit-on-failure refuse) it also says whether every
// sink can write now (available()), and tells each producer which of its
// records have been handed to every sink, and whether all of them were
// written (on_committed()), so a connection can wait for its own record.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/audit/sink.hpp>
#include <chokepoint/log/throttle.hpp>

namespace chokepoint::audit {

class AuditLog {
 public:
  struct Options {
    int producers = 1;                         // one queue per I/O thread
    std::size_t max_queued_records = 1 << 20;  // across all queues
  };

  // Starts the audit thread over `sinks` (start-up).
  AuditLog(const Options& options, std::vector<std::unique_ptr<Sink>> sinks);
  ~AuditLog();

  // Queues a batch of records. `producer` is the calling I/O thread's index;
  // each producer calls from one thread only. Never blocks on I/O; the audit
  // thread picks batches up within kWriteInterval.
  // `urgent`: someone waits for these records (on_committed): the audit
  // thread comes now instead of within kWriteInterval.
  void write(int producer, std::vector<Record> records, bool urgent = false);

  // Called on the audit thread after it handed records to the sinks:
  // `producer`'s first `through` records (counting every record it ever
  // passed to write(), refused ones too) have been dealt with; `ok` is false
  // when any of those just dealt with was lost (a full queue, a sink that
  // failed; conservatively the whole batch). Must not block. Start-up only,
  // before `producer` writes.
  using Committed = std::function<void(std::uint64_t through, bool ok)>;
  void on_committed(int producer, Committed committed);

  // Every sink can write now, and no queue refuses records. False from the
  // first record lost until the sinks write again (or, while idle, find
  // room again: Sink::retry every kRetryInterval). One atomic load.
  bool available() const { return available_.load(std::memory_order_relaxed); }
  // Why not available ("file:/var/log/a.jsonl: No space left on device"),
  // empty when it is.
  std::string unavailable_reason() const;
  static constexpr std::chrono::milliseconds kRetryInterval{500};

  // The last deny and error records the sinks were handed, newest first
  // (the status page); at most kRecentRefusals.
  std::vector<Record> recent_refusals() const;
  static constexpr std::size_t kRecentRefusals = 50;

  // How long a queued record may wait for the audit thread: batching over
  // this interval keeps the I/O threads free of per-record wake-ups.
  static constexpr std::chrono::milliseconds kWriteInterval{20};

  // Reopens file sinks (logrotate's SIGUSR1); safe from any thread.
  void reopen() {
    reopen_.store(true);
    wake();
  }
  // Hands everything queued to the sinks, stops them, and stops the thread.
  void stop();

  std::uint64_t queued_total() const { return queued_.load(); }
  // Records refused by a full queue, before any sink saw them.
  std::uint64_t dropped() const { return dropped_.load(); }
  struct SinkReport {
    std::string name;
    SinkStats stats;
    SinkHealth health;
  };
  std::vector<SinkReport> sinks() const;
  // Dropped, plus every record some sink failed to deliver.
  std::uint64_t lost() const;

 private:
  struct Queue {
    std::mutex mutex;
    std::vector<std::vector<Record>> batches;  // as write() got them
    std::size_t queued = 0;                    // records in `batches`
    std::uint64_t submitted = 0;  // every record ever passed to write(), refused ones too
    bool refused = false;         // some were refused (a full queue) since the last drain
    // The audit thread's own: what it told on_committed last.
    std::uint64_t committed = 0;
  };

  void run();
  void wake();
  bool drain();
  void retry_failing(std::chrono::steady_clock::time_point now);
  void update_availability(bool queue_refused);
  void keep_refusals(std::span<const std::vector<Record>> batches);
  void report_losses(bool final);

  Options options_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::size_t max_per_queue_;
  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  std::atomic<bool> pending_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reopen_{false};
  std::atomic<std::uint64_t> queued_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<bool> available_{true};
  std::atomic<bool> overflowing_{false};  // a queue refused records since the last drain
  mutable std::mutex committed_mutex_;
  std::vector<Committed> committed_;  // per producer
  mutable std::mutex recent_mutex_;
  std::deque<Record> recent_;  // newest first
  std::chrono::steady_clock::time_point last_retry_{};
  // While a disk is full every batch loses records: one line per interval
  // says how many, not one per batch.
  log::Throttle losses_{std::chrono::seconds(10)};
  std::uint64_t lost_noted_ = 0;
  std::thread thread_;
};

}  // namespace chokepoint::audit
