#include <algorithm>
#include <charconv>

#include <chokepoint/proxy/record_queue.hpp>

#include "refusal_throttle.hpp"

namespace chokepoint::proxy {
namespace {

// Records one loop turn usually emits, at most, to reserve room for.
constexpr std::size_t kBatchReserve = 64;
// Refusals of one client, reason and destination written per second before
// the rest are summarised, and windows kept per second.
constexpr std::size_t kFirstRefusals = 10;
constexpr std::size_t kMaxWindows = 4096;

}  // namespace

RecordQueue::RecordQueue(asio::io_context& io, audit::AuditLog& log, Metrics& metrics,
                         Options options)
    : io_(io),
      log_(log),
      metrics_(metrics),
      options_(std::move(options)),
      throttle_(std::make_unique<RefusalThrottle>(kFirstRefusals, kMaxWindows, options_.prefixes)) {
  if (options_.fail_closed) {
    log_.on_committed(options_.thread, [this](std::uint64_t through, bool ok) {
      asio::post(io_, [this, through, ok] { committed(through, ok); });
    });
  }
}

RecordQueue::~RecordQueue() {
  // After this no acknowledgement is posted to a loop being destroyed.
  if (options_.fail_closed) log_.on_committed(options_.thread, nullptr);
}

std::string RecordQueue::next_id() {
  // Without printf: one per exchange.
  char thread[12];
  char counter[24];
  const auto thread_end = std::to_chars(thread, thread + sizeof thread, options_.thread).ptr;
  const auto counter_end = std::to_chars(counter, counter + sizeof counter, ++next_id_).ptr;
  std::string id;
  id.reserve(options_.id_prefix.size() + sizeof thread + sizeof counter);
  id.append(options_.id_prefix).append(1, '-').append(thread, thread_end).append(1, '-');
  id.append(counter, counter_end);
  return id;
}

void RecordQueue::write(audit::Record&& record) {
  metrics_.observe(record);
  const auto emit = [this](audit::Record&& summary) { batch_.push_back(std::move(summary)); };
  if (throttle_->pass(record, std::chrono::steady_clock::now(), emit))
    batch_.push_back(std::move(record));
  schedule_flush();
}

void RecordQueue::write(const audit::Record& record) {
  // Only open records are copied, and the throttle passes them all.
  metrics_.observe(record);
  batch_.push_back(record);
  schedule_flush();
}

void RecordQueue::flush_summaries(std::chrono::steady_clock::time_point now) {
  bool any = false;
  throttle_->flush(now, [&](audit::Record&& summary) {
    batch_.push_back(std::move(summary));
    any = true;
  });
  if (any) schedule_flush();
}

void RecordQueue::loop_ended() {
  loop_ended_ = true;
  flush_summaries(std::chrono::steady_clock::time_point::max());
  flush();
}

void RecordQueue::schedule_flush() {
  if (loop_ended_) {
    flush();
    return;
  }
  // Hand the batch over once this turn of the event loop is done: one
  // queue operation for all the records of the turn.
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(io_, [this] { flush(); });
  }
}

void RecordQueue::flush() {
  flush_posted_ = false;
  if (batch_.empty()) return;
  const std::size_t last_size = batch_.size();
  log_.write(options_.thread, std::move(batch_), urgent_);
  submitted_ += last_size;
  urgent_ = false;
  batch_ = std::vector<audit::Record>();
  // A turn's records fill the next batch about as much: one allocation for it
  // (bounded: a turn that ended thousands of tunnels is not the usual one).
  batch_.reserve(std::min<std::size_t>(last_size, kBatchReserve));
}

asio::awaitable<bool> RecordQueue::written() {
  const std::uint64_t through = submitted_ + batch_.size();
  if (through <= committed_) co_return failed_through_ < through;
  AsyncEvent done(io_.get_executor());
  bool ok = false;
  waiters_.push_back(Waiter{through, &done, &ok});
  urgent_ = true;
  schedule_flush();
  if (co_await done.wait_for(kWait)) co_return ok;
  const auto mine = std::find_if(waiters_.begin(), waiters_.end(),
                                 [&](const Waiter& w) { return w.done == &done; });
  if (mine != waiters_.end()) waiters_.erase(mine);
  co_return false;
}

void RecordQueue::committed(std::uint64_t through, bool ok) {
  committed_ = through;
  if (!ok) failed_through_ = through;
  while (!waiters_.empty() && waiters_.front().through <= through) {
    *waiters_.front().ok = ok;
    waiters_.front().done->set();
    waiters_.pop_front();
  }
}

}  // namespace chokepoint::proxy
