// The audit log: records go from the I/O threads into bounded per-thread
// queues, and one thread of its own hands them to the sinks (a file or
// stdout, syslog destinations). A relay never waits on the disk or a SIEM
// (DESIGN.md: "Writing a record never blocks the relay"); a record that
// cannot be queued or delivered is counted and reported on stderr, never
// silently dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/audit/sink.hpp>

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
  void write(int producer, std::vector<Record> records);

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
  };
  std::vector<SinkReport> sinks() const;
  // Dropped, plus every record some sink failed to deliver.
  std::uint64_t lost() const;

 private:
  struct Queue {
    std::mutex mutex;
    std::vector<Record> records;
  };

  void run();
  void wake();
  bool drain();
  void report_losses();

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
  std::uint64_t lost_reported_ = 0;
  std::thread thread_;
};

}  // namespace chokepoint::audit
