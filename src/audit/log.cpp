#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

#include <chokepoint/audit/log.hpp>

namespace chokepoint::audit {
namespace {

int open_sink(const std::string& path, std::string& error) {
  if (path == "-") return STDOUT_FILENO;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) error = "cannot open audit log " + path + ": " + std::strerror(errno);
  return fd;
}

}  // namespace

std::unique_ptr<AuditLog> AuditLog::start(const Options& options, std::string& error) {
  const int fd = open_sink(options.path, error);
  if (fd < 0) return nullptr;
  std::unique_ptr<AuditLog> log(new AuditLog(options, fd));
  log->thread_ = std::thread([raw = log.get()] { raw->run(); });
  return log;
}

AuditLog::AuditLog(const Options& options, int fd)
    : options_(options),
      fd_(fd),
      max_queue_bytes_(options.max_queued_bytes /
                       static_cast<std::size_t>(std::max(1, options.producers))) {
  for (int i = 0; i < std::max(1, options.producers); ++i)
    queues_.push_back(std::make_unique<Queue>());
}

AuditLog::~AuditLog() {
  stop();
  if (fd_ > STDERR_FILENO) ::close(fd_);
}

void AuditLog::write(int producer, std::string lines, std::size_t count) {
  Queue& q = *queues_[static_cast<std::size_t>(producer) % queues_.size()];
  bool wake_now = false;
  {
    std::lock_guard lock(q.mutex);
    if (q.bytes + lines.size() > max_queue_bytes_) {
      lost_.fetch_add(count, std::memory_order_relaxed);
      return;
    }
    q.bytes += lines.size();
    q.records += count;
    q.batches.push_back(std::move(lines));
    // Normally the writer comes by every kWriteInterval; a queue filling up
    // fast calls it early.
    wake_now = q.bytes > max_queue_bytes_ / 8;
  }
  if (wake_now && !pending_.exchange(true)) wake();
}

void AuditLog::wake() {
  std::lock_guard lock(wake_mutex_);
  wake_cv_.notify_one();
}

void AuditLog::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  wake();
  thread_.join();
}

void AuditLog::run() {
  while (true) {
    {
      std::unique_lock lock(wake_mutex_);
      wake_cv_.wait_for(lock, kWriteInterval,
                        [&] { return pending_.load() || stopping_.load() || reopen_.load(); });
    }
    if (reopen_.exchange(false) && options_.path != "-") {
      std::string error;
      const int fd = open_sink(options_.path, error);
      if (fd < 0) {
        std::cerr << "chokepoint: audit: " << error << "; still writing to the old file\n";
      } else {
        ::close(fd_);
        fd_ = fd;
      }
    }
    pending_.store(false);
    drain();
    report_losses();
    if (stopping_.load()) {
      // Producers may still be finishing their last records.
      while (drain()) {
      }
      report_losses();
      return;
    }
  }
}

bool AuditLog::drain() {
  std::string batch;
  std::vector<std::string> taken;
  std::uint64_t count = 0;
  for (auto& q : queues_) {
    {
      std::lock_guard lock(q->mutex);
      taken.swap(q->batches);
      count += q->records;
      q->bytes = 0;
      q->records = 0;
    }
    for (auto& lines : taken)
      batch += lines;
    taken.clear();
  }
  if (batch.empty()) return false;
  const std::uint64_t unwritten = write_all(batch);
  written_.fetch_add(count - unwritten, std::memory_order_relaxed);
  lost_.fetch_add(unwritten, std::memory_order_relaxed);
  return true;
}

std::uint64_t AuditLog::write_all(const std::string& batch) {
  const char* data = batch.data();
  std::size_t left = batch.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n > 0) {
      data += n;
      left -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // The sink refuses (disk full, closed pipe): what is left is lost, and said so.
    std::cerr << "chokepoint: audit: write failed: " << std::strerror(errno) << '\n';
    std::uint64_t unwritten = 0;
    for (const char* p = data; p < batch.data() + batch.size(); ++p)
      unwritten += *p == '\n';
    return unwritten;
  }
  return 0;
}

void AuditLog::report_losses() {
  const std::uint64_t lost = lost_.load();
  if (lost != lost_reported_) {
    std::cerr << "chokepoint: audit: " << (lost - lost_reported_) << " records lost (" << lost
              << " in all): the audit queue was full or the sink refused them\n";
    lost_reported_ = lost;
  }
}

}  // namespace chokepoint::audit
