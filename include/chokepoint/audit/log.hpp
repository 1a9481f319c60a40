// The audit log: records go from the I/O threads into bounded per-thread
// queues, and one writer thread of its own drains them to the sink. A relay
// never waits on the disk or a SIEM (DESIGN.md: "Writing a record never
// blocks the relay"); a record that cannot be queued or written is counted
// and reported on stderr, never silently dropped.
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

namespace chokepoint::audit {

class AuditLog {
 public:
  struct Options {
    std::string path = "-";  // a file (appended to), or "-" for stdout
    int producers = 1;       // one queue per I/O thread
    std::size_t max_queued_bytes = std::size_t{64} << 20;  // across all queues
  };

  // Opens the sink and starts the writer thread. Start-up only: on failure
  // returns nullptr and sets `error`.
  static std::unique_ptr<AuditLog> start(const Options& options, std::string& error);
  ~AuditLog();

  // Queues `count` formatted lines (a batch). `producer` is the calling I/O
  // thread's index; each producer calls from one thread only. Never blocks
  // on I/O; the writer picks batches up within kWriteInterval.
  void write(int producer, std::string lines, std::size_t count);

  // How long a queued record may wait for the writer thread: batching over
  // this interval keeps the I/O threads free of per-record wake-ups.
  static constexpr std::chrono::milliseconds kWriteInterval{20};

  // Reopens the file (logrotate's SIGUSR1); safe from any thread.
  void reopen() {
    reopen_.store(true);
    wake();
  }
  // Writes everything queued, then stops the writer thread.
  void stop();

  std::uint64_t written() const { return written_.load(); }
  std::uint64_t lost() const { return lost_.load(); }

 private:
  struct Queue {
    std::mutex mutex;
    std::vector<std::string> batches;
    std::size_t bytes = 0;
    std::size_t records = 0;
  };

  AuditLog(const Options& options, int fd);
  void run();
  void wake();
  bool drain();                                       // true when something was written
  std::uint64_t write_all(const std::string& batch);  // returns the lines not written
  void report_losses();

  Options options_;
  int fd_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::size_t max_queue_bytes_;
  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  std::atomic<bool> pending_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reopen_{false};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> lost_{0};
  std::uint64_t lost_reported_ = 0;
  std::thread thread_;
};

}  // namespace chokepoint::audit
