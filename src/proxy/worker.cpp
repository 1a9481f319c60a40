#include <algorithm>
#include <charconv>
#include <iostream>

#include <chokepoint/proxy/worker.hpp>
#include <chokepoint/relay/tunnel.hpp>

#include "refusal_throttle.hpp"

namespace chokepoint::proxy {
namespace {

// How often idle tunnels and pooled connections are looked at.
constexpr std::chrono::seconds kSweepInterval{1};
// 256 KiB pipes move a lot per splice call; idle ones kept per thread
// (ProxyOptions::idle_pipes_per_thread) keep pipe2() off the path of busy
// tunnels.
constexpr std::size_t kPipeSize = std::size_t{1} << 18;
// Records one loop turn usually emits, at most, to reserve room for.
constexpr std::size_t kBatchReserve = 64;
// How long stopping waits for connections still resolving or dialing to
// write their records before the loop ends whatever is left.
constexpr std::chrono::seconds kStopGrace{2};

}  // namespace

Worker::Worker(int index, const ProxyOptions& options, net::DnsCache& dns, audit::AuditLog& audit,
               ConnectionLimits& limits, auth::Authenticator* authenticator,
               std::shared_ptr<const policy::Snapshot> snapshot, std::string id_prefix)
    : index_(index),
      options_(options),
      resolver_(io_, dns, net::ResolverOptions{options.dns_servers, options.dns_timeout}),
      dialer_(resolver_, options.connect_to,
              net::DialOptions{options.connect_timeout, std::chrono::milliseconds(250)}),
      audit_(audit),
      limits_(limits),
      authenticator_(authenticator),
      snapshot_(std::move(snapshot)),
      id_prefix_(std::move(id_prefix)),
      pipes_(kPipeSize, options.idle_pipes_per_thread, &limits.buffers()),
      upstreams_(options.upstream_keepalive) {
  throttle_ = std::make_unique<RefusalThrottle>(10, 4096, options.client_prefixes());
  if (options.audit_refuse) {
    audit_.on_committed(index_, [this](std::uint64_t through, bool ok) {
      asio::post(io_, [this, through, ok] { audit_committed(through, ok); });
    });
  }
}

Worker::~Worker() {
  // After this no acknowledgement is posted to the loop being destroyed.
  if (options_.audit_refuse) audit_.on_committed(index_, nullptr);
}

std::string Worker::next_id() {
  // "<process tag>-<thread>-<counter>", without printf: one per exchange.
  char thread[12];
  char counter[24];
  const auto thread_end = std::to_chars(thread, thread + sizeof thread, index_).ptr;
  const auto counter_end = std::to_chars(counter, counter + sizeof counter, ++next_id_).ptr;
  std::string id;
  id.reserve(id_prefix_.size() + sizeof thread + sizeof counter);
  id.append(id_prefix_).append(1, '-').append(thread, thread_end).append(1, '-');
  id.append(counter, counter_end);
  return id;
}

void Worker::write_record(audit::Record&& record) {
  metrics_.observe(record);
  const auto emit = [this](audit::Record&& summary) { audit_batch_.push_back(std::move(summary)); };
  if (throttle_->pass(record, std::chrono::steady_clock::now(), emit))
    audit_batch_.push_back(std::move(record));
  schedule_flush();
}

void Worker::write_record(const audit::Record& record) {
  // Only open records are copied (they go on to become the close), and the
  // throttle passes them all.
  metrics_.observe(record);
  audit_batch_.push_back(record);
  schedule_flush();
}

void Worker::flush_summaries(std::chrono::steady_clock::time_point now) {
  bool any = false;
  throttle_->flush(now, [&](audit::Record&& summary) {
    audit_batch_.push_back(std::move(summary));
    any = true;
  });
  if (any) schedule_flush();
}

void Worker::schedule_flush() {
  if (loop_ended_) {
    flush_audit();
    return;
  }
  // Hand the batch over once this turn of the event loop is done: one
  // queue operation for all the records of the turn.
  if (!audit_flush_posted_) {
    audit_flush_posted_ = true;
    asio::post(io_, [this] { flush_audit(); });
  }
}

void Worker::flush_audit() {
  audit_flush_posted_ = false;
  if (audit_batch_.empty()) return;
  const std::size_t last_size = audit_batch_.size();
  audit_.write(index_, std::move(audit_batch_), audit_urgent_);
  audit_submitted_ += last_size;
  audit_urgent_ = false;
  audit_batch_ = std::vector<audit::Record>();
  // A turn's records fill the next batch about as much: one allocation for it
  // (bounded: a turn that ended thousands of tunnels is not the usual one).
  audit_batch_.reserve(std::min<std::size_t>(last_size, kBatchReserve));
}

asio::awaitable<bool> Worker::audit_written() {
  const std::uint64_t through = audit_submitted_ + audit_batch_.size();
  if (through <= audit_committed_) co_return audit_failed_through_ < through;
  AsyncEvent done(io_.get_executor());
  bool ok = false;
  audit_waiters_.push_back(AuditWaiter{through, &done, &ok});
  audit_urgent_ = true;
  schedule_flush();
  if (co_await done.wait_for(kAuditWait)) co_return ok;
  const auto mine = std::find_if(audit_waiters_.begin(), audit_waiters_.end(),
                                 [&](const AuditWaiter& w) { return w.done == &done; });
  if (mine != audit_waiters_.end()) audit_waiters_.erase(mine);
  co_return false;
}

void Worker::audit_committed(std::uint64_t through, bool ok) {
  audit_committed_ = through;
  if (!ok) audit_failed_through_ = through;
  while (!audit_waiters_.empty() && audit_waiters_.front().through <= through) {
    *audit_waiters_.front().ok = ok;
    audit_waiters_.front().done->set();
    audit_waiters_.pop_front();
  }
}

void Worker::accept_failed(const error_code& ec) {
  const char* name = "other";
  if (ec == asio::error::no_descriptors) {
    name = "emfile";
  } else if (ec.value() == ENFILE) {
    name = "enfile";
  } else if (ec == asio::error::no_buffer_space) {
    name = "enobufs";
  } else if (ec == asio::error::no_memory) {
    name = "enomem";
  }
  ++metrics_.accept_failures[name];
}

Metrics Worker::metrics() const {
  Metrics copy = metrics_;
  for (const ConnectionSlot& slot : live_) {
    if (slot.owner() && slot.owner()->open_record()) ++copy.open_tunnels;
  }
  copy.handshakes = handshakes_;
  return copy;
}

std::vector<Worker::OpenTunnel> Worker::tunnels(std::size_t limit) const {
  std::vector<OpenTunnel> out;
  const auto now = std::chrono::steady_clock::now();
  for (const ConnectionSlot& slot : live_) {
    if (out.size() >= limit) break;
    const relay::Tunnel* tunnel = slot.owner() ? slot.owner()->tunnel() : nullptr;
    const audit::Record* facts = slot.owner() ? slot.owner()->open_record() : nullptr;
    if (!facts) continue;
    if (tunnel) {
      out.push_back(OpenTunnel{*facts, false, tunnel->bytes_up(), tunnel->bytes_down(),
                               now - tunnel->started(), now - tunnel->last_activity()});
    } else {
      // Since its open record, nothing has moved.
      const auto age = std::chrono::system_clock::now() - facts->ts;
      out.push_back(
          OpenTunnel{*facts, true, 0, facts->bytes_down,
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(age),
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(age)});
    }
  }
  return out;
}

void Worker::run() {
  sweep();
  io_.run();
  loop_ended_ = true;
  if (!live_.empty()) {
    // Stopping, and some connections did not end within the grace: their
    // coroutines are destroyed now, and each still writes its record
    // (exchange_record.hpp), before this thread hands its last batch over.
    std::cerr << "chokepoint: thread " << index_ << ": " << live_.size()
              << " connections did not end in time; ending them unfinished\n";
    io_.end_pending();
  }
  flush_summaries(std::chrono::steady_clock::time_point::max());
  flush_audit();  // what the last turns wrote, if the loop was stopped before its flush
}

void Worker::sweep() {
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    const auto now = std::chrono::steady_clock::now();
    for (ConnectionSlot& slot : live_) {
      relay::Tunnel* tunnel = slot.owner() ? slot.owner()->tunnel() : nullptr;
      // stop() only closes the sockets: the slot stays linked until its
      // session has written the close record.
      if (!tunnel) continue;
      if (const auto why = tunnel->timed_out(now)) tunnel->stop(*why);
    }
    upstreams_.expire(now);
    flush_summaries(now);
    sweep();
  });
}

void Worker::notify_when_idle(std::function<void()> idle) {
  idle_ = std::move(idle);
  if (live_.empty()) became_idle();
}

void Worker::became_idle() {
  if (stopping_) io_.stop();
  if (idle_) std::exchange(idle_, nullptr)();
}

void Worker::stop() {
  stopping_ = true;
  sweep_timer_.cancel();
  upstreams_.clear();
  for (ConnectionSlot& slot : live_) {
    if (slot.owner()) slot.owner()->cancel();
  }
  stop_when_idle();
}

void Worker::stop_when_idle() {
  if (live_.empty()) {
    io_.stop();
    return;
  }
  // Each connection leaves the list once it has written its records
  // (ConnectionSlot's destructor calls back here); one that is stuck in a
  // lookup that cannot be cut short gets this long.
  sweep_timer_.expires_after(kStopGrace);
  sweep_timer_.async_wait([this](const error_code& ec) {
    if (!ec) io_.stop();
  });
}

}  // namespace chokepoint::proxy
