#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {
namespace {

// How often idle tunnels and pooled connections are looked at.
constexpr std::chrono::seconds kSweepInterval{1};
constexpr std::size_t kAuditBatchReserve = 16 * 1024;

}  // namespace

Worker::Worker(int index, const ProxyOptions& options, net::Resolver& resolver,
               audit::AuditLog& audit, ConnectionLimits& limits, auth::Authenticator* authenticator,
               std::shared_ptr<const policy::Snapshot> snapshot, std::string id_prefix)
    : index_(index),
      options_(options),
      dialer_(resolver, options.connect_to,
              net::DialOptions{options.dns_timeout, options.connect_timeout,
                               std::chrono::milliseconds(250)}),
      audit_(audit),
      limits_(limits),
      authenticator_(authenticator),
      snapshot_(std::move(snapshot)),
      id_prefix_(std::move(id_prefix)),
      upstreams_(options.upstream_keepalive) {}

std::string Worker::next_id() {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s-%d-%llu", id_prefix_.c_str(), index_,
                static_cast<unsigned long long>(++next_id_));
  return buffer;
}

void Worker::emit(audit::Record& record, audit::Event event,
                  std::chrono::steady_clock::time_point started) {
  record.event = event;
  record.ts = std::chrono::system_clock::now();
  record.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  audit::append_json_line(audit_batch_, record);
  ++audit_batch_records_;
  // Hand the batch over once this turn of the event loop is done: one
  // queue operation for all the records of the turn.
  if (!audit_flush_posted_) {
    audit_flush_posted_ = true;
    asio::post(io_, [this] { flush_audit(); });
  }
}

void Worker::flush_audit() {
  audit_flush_posted_ = false;
  if (audit_batch_records_ == 0) return;
  audit_.write(index_, std::move(audit_batch_), audit_batch_records_);
  audit_batch_ = std::string();
  audit_batch_.reserve(kAuditBatchReserve);
  audit_batch_records_ = 0;
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
      if (now - tunnel.last_activity() >= options_.idle_timeout)
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
