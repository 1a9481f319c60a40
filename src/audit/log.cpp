
#include <chokepoint/audit/log.hpp>
#include <chokepoint/log/log.hpp>

namespace chokepoint::audit {

AuditLog::AuditLog(const Options& options, std::vector<std::unique_ptr<Sink>> sinks)
    : options_(options),
      sinks_(std::move(sinks)),
      max_per_queue_(options.max_queued_records /
                     static_cast<std::size_t>(std::max(1, options.producers))) {
  for (int i = 0; i < std::max(1, options.producers); ++i)
    queues_.push_back(std::make_unique<Queue>());
  committed_.resize(queues_.size());
  thread_ = std::thread([this] { run(); });
}

AuditLog::~AuditLog() {
  stop();
}

void AuditLog::write(int producer, std::vector<Record> records, bool urgent) {
  Queue& q = *queues_[static_cast<std::size_t>(producer) % queues_.size()];
  bool wake_now = urgent;
  {
    std::lock_guard lock(q.mutex);
    const std::size_t room = max_per_queue_ > q.queued ? max_per_queue_ - q.queued : 0;
    const std::size_t taken = std::min(room, records.size());
    q.submitted += records.size();
    if (taken < records.size()) {
      dropped_.fetch_add(records.size() - taken, std::memory_order_relaxed);
      q.refused = true;
      overflowing_.store(true, std::memory_order_relaxed);
      available_.store(false, std::memory_order_relaxed);
    }
    // The batch is queued as it is: one move of a vector, not of each record.
    records.resize(taken);
    if (!records.empty()) q.batches.push_back(std::move(records));
    q.queued += taken;
    queued_.fetch_add(taken, std::memory_order_relaxed);
    // Normally the audit thread comes by every kWriteInterval; a queue filling
    // up fast calls it early.
    wake_now = wake_now || q.queued > max_per_queue_ / 8;
  }
  if (wake_now && !pending_.exchange(true)) wake();
}

void AuditLog::on_committed(int producer, Committed committed) {
  std::lock_guard lock(committed_mutex_);
  committed_[static_cast<std::size_t>(producer) % committed_.size()] = std::move(committed);
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
  report_losses(true);
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
      update_availability(false);
    }
    pending_.store(false);
    if (!drain() && !available_.load(std::memory_order_relaxed))
      retry_failing(std::chrono::steady_clock::now());
    report_losses(false);
    if (stopping_.load()) {
      while (drain()) {
      }  // producers may still be finishing their last records
      return;
    }
  }
}

bool AuditLog::drain() {
  std::vector<std::vector<Record>> batches;
  struct Taken {
    std::uint64_t through;
    bool refused;
  };
  std::vector<Taken> taken_from(queues_.size());
  bool queue_refused = false;
  bool anything = false;
  for (std::size_t i = 0; i < queues_.size(); ++i) {
    Queue& q = *queues_[i];
    std::vector<std::vector<Record>> taken;
    {
      std::lock_guard lock(q.mutex);
      taken.swap(q.batches);
      q.queued = 0;
      taken_from[i] = Taken{q.submitted, q.refused};
      q.refused = false;
    }
    queue_refused = queue_refused || taken_from[i].refused;
    anything = anything || taken_from[i].through != q.committed;
    if (batches.empty()) {
      batches = std::move(taken);
    } else {
      batches.insert(batches.end(), std::make_move_iterator(taken.begin()),
                     std::make_move_iterator(taken.end()));
    }
  }
  if (!anything) {
    update_availability(false);
    return false;
  }
  bool sinks_lost = false;
  if (!batches.empty()) {
    for (auto& sink : sinks_) {
      const std::uint64_t lost_before = sink->stats().lost;
      sink->write(batches);
      sinks_lost = sinks_lost || sink->stats().lost != lost_before;
    }
    keep_refusals(batches);
  }
  // A sink that just failed is looked at again kRetryInterval from now.
  if (sinks_lost) last_retry_ = std::chrono::steady_clock::now();
  // Only now may the queues count as flowing again: what they refused
  // before this drain is told below as lost.
  overflowing_.store(false, std::memory_order_relaxed);
  update_availability(queue_refused);
  {
    std::lock_guard lock(committed_mutex_);
    for (std::size_t i = 0; i < queues_.size(); ++i) {
      Queue& q = *queues_[i];
      if (taken_from[i].through == q.committed) continue;
      q.committed = taken_from[i].through;
      if (committed_[i]) committed_[i](q.committed, !sinks_lost && !taken_from[i].refused);
    }
  }
  return !batches.empty();
}

void AuditLog::retry_failing(std::chrono::steady_clock::time_point now) {
  if (now - last_retry_ < kRetryInterval) return;
  last_retry_ = now;
  for (auto& sink : sinks_) {
    if (sink->health().failing) sink->retry();
  }
  update_availability(false);
}

void AuditLog::update_availability(bool queue_refused) {
  bool ok = !queue_refused && !overflowing_.load(std::memory_order_relaxed);
  for (const auto& sink : sinks_)
    ok = ok && !sink->health().failing;
  available_.store(ok, std::memory_order_relaxed);
}

std::string AuditLog::unavailable_reason() const {
  std::string why;
  if (overflowing_.load(std::memory_order_relaxed)) why = "the audit queues are full";
  for (const auto& sink : sinks_) {
    const SinkHealth health = sink->health();
    if (!health.failing) continue;
    why += (why.empty() ? "" : "; ") + sink->name() + ": " + health.error;
  }
  if (why.empty() && !available()) why = "records were lost";
  return why;
}

void AuditLog::keep_refusals(std::span<const std::vector<Record>> batches) {
  std::vector<const Record*> newest;
  for (auto batch = batches.rbegin(); batch != batches.rend(); ++batch) {
    for (auto it = batch->rbegin(); it != batch->rend() && newest.size() < kRecentRefusals; ++it) {
      if (it->event == Event::Deny || it->event == Event::Error) newest.push_back(&*it);
    }
  }
  if (newest.empty()) return;
  std::lock_guard lock(recent_mutex_);
  for (auto it = newest.rbegin(); it != newest.rend(); ++it)
    recent_.push_front(**it);
  while (recent_.size() > kRecentRefusals)
    recent_.pop_back();
}

std::vector<Record> AuditLog::recent_refusals() const {
  std::lock_guard lock(recent_mutex_);
  return {recent_.begin(), recent_.end()};
}

std::vector<AuditLog::SinkReport> AuditLog::sinks() const {
  std::vector<SinkReport> out;
  for (const auto& sink : sinks_)
    out.push_back(SinkReport{sink->name(), sink->stats(), sink->health()});
  return out;
}

std::uint64_t AuditLog::lost() const {
  std::uint64_t total = dropped_.load();
  for (const auto& sink : sinks_)
    total += sink->stats().lost;
  return total;
}

void AuditLog::report_losses(bool final) {
  const std::uint64_t lost = this->lost();
  const auto now = std::chrono::steady_clock::now();
  std::uint64_t count = losses_.note(now, lost - lost_noted_);
  lost_noted_ = lost;
  if (final) count += losses_.take(now);
  if (count == 0) return;
  log::Message(log::Level::Error) << "audit: " << count << " records lost (" << lost << " in all; "
                                  << dropped_.load()
                                  << " refused by a full queue, the rest by a sink)";
}

}  // namespace chokepoint::audit
