#include <chokepoint/log/log.hpp>
#include <chokepoint/net/options.hpp>
#include <chokepoint/proxy/worker.hpp>
#include <chokepoint/relay/tunnel.hpp>

#include "session.hpp"

namespace chokepoint::proxy {
namespace {

// How often idle tunnels and pooled connections are looked at.
constexpr std::chrono::seconds kSweepInterval{1};
// 256 KiB pipes move a lot per splice call; idle ones kept per thread
// (ProxyOptions::idle_pipes_per_thread) keep pipe2() off the path of busy
// tunnels.
constexpr std::size_t kPipeSize = std::size_t{1} << 18;
// How long stopping waits for connections to write their records before
// the loop ends whatever is left (every wait is cancellable: this is for
// what was not foreseen).
constexpr std::chrono::seconds kStopGrace{2};

}  // namespace

Worker::Worker(int index, const ProxyOptions& options, net::DnsCache& dns, audit::AuditLog& audit,
               ConnectionLimits& limits, auth::Authenticator* authenticator,
               std::shared_ptr<const policy::Snapshot> snapshot, std::string id_prefix)
    : index_(index),
      options_(options),
      resolver_(io_, dns, net::resolver_options(options)),
      dialer_(resolver_, options.connect_to, net::dial_options(options)),
      records_(io_, audit, metrics_,
               RecordQueue::Options{index, std::move(id_prefix), options.audit_refuse,
                                    options.client_prefixes()}),
      limits_(limits),
      authenticator_(authenticator),
      snapshot_(std::move(snapshot)),
      pipes_(kPipeSize, options.idle_pipes_per_thread, &limits.buffers()),
      upstreams_(options.upstream_keepalive),
      services_{options_,       index_, dialer_,    records_, limits_,
                authenticator_, pipes_, upstreams_, metrics_, inventory_} {
  live_.when_empty([this] { became_idle(); });
}

Worker::~Worker() = default;

void Worker::serve(ListenerKind kind, tcp::socket socket, const tcp::endpoint& peer,
                   const tcp::endpoint& local) {
  ConnectionSlot slot(live_, limits_, options_, net::to_ip(peer.address()));
  start_session(services_, kind, std::move(socket), peer, local, snapshot_, std::move(slot));
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
  for (const ConnectionSlot& slot : live_.list()) {
    ++copy.connections;
    if (slot.owner() && slot.owner()->open_record()) ++copy.open_tunnels;
  }
  copy.handshakes = live_.handshakes();
  return copy;
}

std::vector<Worker::OpenTunnel> Worker::tunnels(std::size_t limit) const {
  std::vector<OpenTunnel> out;
  const auto now = std::chrono::steady_clock::now();
  for (const ConnectionSlot& slot : live_.list()) {
    if (out.size() >= limit) break;
    const relay::Tunnel* tunnel = slot.owner() ? slot.owner()->tunnel() : nullptr;
    const audit::Record* facts = slot.owner() ? slot.owner()->open_record() : nullptr;
    if (!facts) continue;
    if (tunnel) {
      out.push_back(OpenTunnel{*facts, false, tunnel->bytes_up(), tunnel->bytes_down(),
                               now - tunnel->started(), now - tunnel->last_activity()});
    } else {
      // Since its open record, nothing has moved.
      const auto age = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::system_clock::now() - facts->ts);
      out.push_back(OpenTunnel{*facts, true, 0, facts->bytes_down, age, age});
    }
  }
  return out;
}

void Worker::run() {
  sweep();
  io_.run();
  records_.loop_ended();
  if (live_.empty()) return;
  // Stopping, and some connections did not end within the grace: their
  // coroutines are destroyed now, and each still writes its record
  // (exchange_record.hpp), handed over at once, summaries included.
  std::size_t left = 0;
  for ([[maybe_unused]] const ConnectionSlot& slot : live_.list())
    ++left;
  log::Message(log::Level::Warning) << "thread " << index_ << ": " << left
                                    << " connections did not end in time; ending them unfinished";
  io_.end_pending();
  records_.loop_ended();
}

void Worker::sweep() {
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    const auto now = std::chrono::steady_clock::now();
    for (ConnectionSlot& slot : live_.list()) {
      relay::Tunnel* tunnel = slot.owner() ? slot.owner()->tunnel() : nullptr;
      // stop() only closes the sockets: the slot stays linked until its
      // session has written the close record.
      if (!tunnel) continue;
      if (const auto why = tunnel->timed_out(now)) tunnel->stop(*why);
    }
    upstreams_.expire(now);
    records_.flush_summaries(now);
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
  for (ConnectionSlot& slot : live_.list()) {
    if (slot.owner()) slot.owner()->cancel();
  }
  if (live_.empty()) {
    io_.stop();
    return;
  }
  // Each connection leaves the list once it has written its records
  // (ConnectionSlot's destructor calls back here).
  sweep_timer_.expires_after(kStopGrace);
  sweep_timer_.async_wait([this](const error_code& ec) {
    if (!ec) io_.stop();
  });
}

}  // namespace chokepoint::proxy
