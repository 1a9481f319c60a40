#include <chokepoint/proxy/connection_slot.hpp>

#include "proxy_header_stage.hpp"

namespace chokepoint::proxy {

ConnectionSlot::ConnectionSlot(LiveConnections& live, ConnectionLimits& limits,
                               const ProxyOptions& options, const IpAddress& peer)
    : live_(&live),
      limits_(&limits),
      client_(peer.unmapped()),
      from_balancer_(from_trusted_balancer(options.proxy_protocol_from, client_)) {
  // Each thread has its share of the pending heads: connections reach the
  // threads evenly (SO_REUSEPORT), and a share needs no lock.
  const std::size_t threads = static_cast<std::size_t>(std::max(1, options.threads));
  const std::size_t pending_limit = options.max_pending_heads;
  const std::size_t pending_share = std::max<std::size_t>(1, pending_limit / threads);
  const bool thread_full = pending_limit != 0 && live.handshakes() >= pending_share;
  admission_ = from_balancer_
                   ? limits.admit_shared(thread_full)
                   : limits.admit(client_, thread_full, std::chrono::steady_clock::now());
  if (admission_) {
    holds_limit_ = true;
    holds_client_ = !from_balancer_;
    handshaking_ = true;
    ++live.handshakes_;
  }
}

ConnectionSlot::ConnectionSlot(ConnectionSlot&& other) noexcept
    : live_(other.live_),
      limits_(other.limits_),
      client_(other.client_),
      admission_(other.admission_),
      from_balancer_(other.from_balancer_),
      holds_limit_(other.holds_limit_),
      holds_client_(other.holds_client_),
      handshaking_(other.handshaking_),
      owner_(other.owner_) {
  // The moved-from slot holds nothing any more: only one destructor gives back.
  other.holds_limit_ = false;
  other.holds_client_ = false;
  other.handshaking_ = false;
  other.owner_ = nullptr;
  if (other.is_linked()) swap_nodes(other);
}

ConnectionSlot::~ConnectionSlot() {
  if (handshaking_) --live_->handshakes_;
  if (holds_client_) limits_->release_client(client_, handshaking_);
  if (holds_limit_) limits_->release_shared();
  if (!is_linked()) return;
  unlink();
  if (live_->list_.empty() && live_->when_empty_) live_->when_empty_();
}

const Admission& ConnectionSlot::admit_client(const IpAddress& client) {
  if (!holds_limit_ || holds_client_) return admission_;
  client_ = client.unmapped();
  admission_ = limits_->admit_client(client_, std::chrono::steady_clock::now());
  holds_client_ = static_cast<bool>(admission_);
  return admission_;
}

void ConnectionSlot::attach(LiveConnection& owner) {
  owner_ = &owner;
  if (!is_linked()) live_->list_.push_back(*this);
}

void ConnectionSlot::relaying() {
  if (!handshaking_) return;
  handshaking_ = false;
  --live_->handshakes_;
  if (holds_client_) limits_->handshake_done(client_);
}

}  // namespace chokepoint::proxy
