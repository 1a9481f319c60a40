#include <iostream>

#include <chokepoint/audit/log.hpp>

namespace chokepoint::audit {

AuditLog::AuditLog(const Options& options, std::vector<std::unique_ptr<Sink>> sinks)
    : options_(options),
      sinks_(std::move(sinks)),
      max_per_queue_(options.max_queued_records /
                     static_cast<std::size_t>(std::max(1, options.producers))) {
  for (int i = 0; i < std::max(1, options.producers); ++i)
    queues_.push_back(std::make_unique<Queue>());
  thread_ = std::thread([this] { run(); });
}

AuditLog::~AuditLog() {
  stop();
}

void AuditLog::write(int producer, std::vector<Record> records) {
  Queue& q = *queues_[static_cast<std::size_t>(producer) % queues_.size()];
  bool wake_now = false;
  {
    std::lock_guard lock(q.mutex);
    const std::size_t room =
        max_per_queue_ > q.records.size() ? max_per_queue_ - q.records.size() : 0;
    const std::size_t taken = std::min(room, records.size());
    if (taken < records.size())
      dropped_.fetch_add(records.size() - taken, std::memory_order_relaxed);
    if (q.records.empty()) {
      records.resize(taken);
      q.records = std::move(records);
    } else {
      q.records.insert(
          q.records.end(), std::make_move_iterator(records.begin()),
          std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(taken)));
    }
    queued_.fetch_add(taken, std::memory_order_relaxed);
    // Normally the audit thread comes by every kWriteInterval; a queue filling
    // up fast calls it early.
    wake_now = q.records.size() > max_per_queue_ / 8;
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
  for (auto& sink : sinks_)
    sink->stop();
  report_losses();
}

void AuditLog::run() {
  while (true) {
    {
      std::unique_lock lock(wake_mutex_);
      wake_cv_.wait_for(lock, kWriteInterval,
                        [&] { return pending_.load() || stopping_.load() || reopen_.load(); });
    }
    if (reopen_.exchange(false)) {
      for (auto& sink : sinks_)
        sink->reopen();
    }
    pending_.store(false);
    drain();
    report_losses();
    if (stopping_.load()) {
      while (drain()) {
      }  // producers may still be finishing their last records
      return;
    }
  }
}

bool AuditLog::drain() {
  std::vector<Record> batch;
  for (auto& q : queues_) {
    std::vector<Record> taken;
    {
      std::lock_guard lock(q->mutex);
      taken.swap(q->records);
    }
    if (batch.empty()) {
      batch = std::move(taken);
    } else {
      batch.insert(batch.end(), std::make_move_iterator(taken.begin()),
                   std::make_move_iterator(taken.end()));
    }
  }
  if (batch.empty()) return false;
  for (auto& sink : sinks_)
    sink->write(batch);
  return true;
}

std::vector<AuditLog::SinkReport> AuditLog::sinks() const {
  std::vector<SinkReport> out;
  for (const auto& sink : sinks_)
    out.push_back(SinkReport{sink->name(), sink->stats()});
  return out;
}

std::uint64_t AuditLog::lost() const {
  std::uint64_t total = dropped_.load();
  for (const auto& sink : sinks_)
    total += sink->stats().lost;
  return total;
}

void AuditLog::report_losses() {
  const std::uint64_t lost = this->lost();
  if (lost != lost_reported_) {
    std::cerr << "chokepoint: audit: " << (lost - lost_reported_) << " records lost (" << lost
              << " in all; " << dropped_.load()
              << " refused by a full queue, the rest by a sink)\n";
    lost_reported_ = lost;
  }
}

}  // namespace chokepoint::audit
