#include <algorithm>

#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {
namespace {

// How often idle tunnels and pooled connections are looked at.
constexpr std::chrono::seconds kSweepInterval{1};
// 256 KiB pipes move a lot per splice call; 64 idle ones per thread keep
// pipe2() off the path of busy tunnels.
constexpr std::size_t kPipeSize = std::size_t{1} << 18;
constexpr std::size_t kIdlePipes = 64;
// Records one loop turn usually emits, at most, to reserve room for.
constexpr std::size_t kBatchReserve = 64;

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
      pipes_(kPipeSize, kIdlePipes, &limits.buffers()),
      upstreams_(options.upstream_keepalive) {}

std::string Worker::next_id() {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s-%d-%llu", id_prefix_.c_str(), index_,
                static_cast<unsigned long long>(++next_id_));
  return buffer;
}

void Worker::emit(audit::Record& record, audit::Event event,
                  std::chrono::steady_clock::time_point started) {
  stamp(record, event, started);
  audit_batch_.push_back(record);
  schedule_flush();
}

void Worker::emit_last(audit::Record&& record, audit::Event event,
                       std::chrono::steady_clock::time_point started) {
  stamp(record, event, started);
  audit_batch_.push_back(std::move(record));
  schedule_flush();
}

void Worker::stamp(audit::Record& record, audit::Event event,
                   std::chrono::steady_clock::time_point started) {
  record.event = event;
  record.ts = std::chrono::system_clock::now();
  record.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  metrics_.observe(record);
}

void Worker::schedule_flush() {
  // Hand the batch over once this turn of the event loop is done: one
  // queue operation for all the records of the turn.
  if (!audit_flush_posted_) {
    audit_flush_posted_ = true;
    asio::post(io_, [this] { flush_audit(); });
  }
}

Metrics Worker::metrics() const {
  Metrics copy = metrics_;
  for (const auto& tunnel : tunnels_) {
    (void)tunnel;
    ++copy.open_tunnels;
  }
  copy.handshakes = handshakes_;
  return copy;
}

std::vector<std::string> Worker::connections() const {
  std::vector<std::string> out;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& tunnel : tunnels_) {
    std::string item;
    tunnel.describe(item);
    const auto seconds = [&](std::chrono::steady_clock::time_point since) {
      return std::chrono::duration_cast<std::chrono::seconds>(now - since).count();
    };
    item += ",\"bytes_up\":" + std::to_string(tunnel.bytes_up()) +
            ",\"bytes_down\":" + std::to_string(tunnel.bytes_down()) +
            ",\"age_s\":" + std::to_string(seconds(tunnel.started())) +
            ",\"idle_s\":" + std::to_string(seconds(tunnel.last_activity())) + "}";
    out.push_back(std::move(item));
  }
  return out;
}

std::size_t Worker::live_connections() const {
  std::size_t n = handshakes_;
  for (const auto& tunnel : tunnels_) {
    (void)tunnel;
    ++n;
  }
  return n;
}

void Worker::flush_audit() {
  audit_flush_posted_ = false;
  if (audit_batch_.empty()) return;
  const std::size_t last_size = audit_batch_.size();
  audit_.write(index_, std::move(audit_batch_));
  audit_batch_ = std::vector<audit::Record>();
  // A turn's records fill the next batch about as much: one allocation for it
  // (bounded: a turn that ended thousands of tunnels is not the usual one).
  audit_batch_.reserve(std::min<std::size_t>(last_size, kBatchReserve));
}

void Worker::run() {
  sweep();
  io_.run();
  flush_audit();  // what the last turns wrote, if the loop was stopped before its flush
}

void Worker::sweep() {
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = tunnels_.begin(); it != tunnels_.end();) {
      relay::Tunnel& tunnel = *it++;  // stop() unlinks the tunnel
      if (now - tunnel.last_activity() >= tunnel.idle_timeout())
        tunnel.stop(relay::EndReason::IdleTimeout);
    }
    upstreams_.expire(now);
    sweep();
  });
}

void Worker::stop() {
  stopping_ = true;
  sweep_timer_.cancel();
  upstreams_.clear();
  // Each session leaves the list itself once it has written its record;
  // stopping waits for that (server.cpp, finish_stopping).
  for (LiveSession& session : sessions_)
    session.cancel();
  while (!tunnels_.empty())
    tunnels_.front().stop(relay::EndReason::Shutdown);
}

}  // namespace chokepoint::proxy
