#include <chokepoint/proxy/connection_slot.hpp>
#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::proxy {

ConnectionSlot::ConnectionSlot(Worker& worker, const IpAddress& client)
    : worker_(&worker), client_(client.unmapped()) {
  // Each thread has its share of the pending heads: connections reach the
  // threads evenly (SO_REUSEPORT), and a share needs no lock.
  const std::size_t threads = static_cast<std::size_t>(std::max(1, worker.options().threads));
  const std::size_t pending_limit = worker.options().max_pending_heads;
  const std::size_t pending_share = std::max<std::size_t>(1, pending_limit / threads);
  const bool thread_full = pending_limit != 0 && worker.handshakes() >= pending_share;
  admission_ = worker.limits().admit(client_, thread_full, std::chrono::steady_clock::now());
  if (admission_) {
    holds_limit_ = true;
    handshaking_ = true;
    ++worker.handshake_gauge();
  }
}

ConnectionSlot::ConnectionSlot(ConnectionSlot&& other) noexcept
    : worker_(other.worker_),
      client_(other.client_),
      admission_(other.admission_),
      holds_limit_(other.holds_limit_),
      handshaking_(other.handshaking_),
      owner_(other.owner_) {
  // The moved-from slot holds nothing any more: only one destructor gives back.
  other.holds_limit_ = false;
  other.handshaking_ = false;
  other.owner_ = nullptr;
  if (other.is_linked()) swap_nodes(other);
}

ConnectionSlot::~ConnectionSlot() {
  if (handshaking_) --worker_->handshake_gauge();
  if (holds_limit_) worker_->limits().release(client_, handshaking_);
  if (!is_linked()) return;
  unlink();
  if (worker_->live().empty()) worker_->became_idle();
}

void ConnectionSlot::attach(LiveConnection& owner) {
  owner_ = &owner;
  if (!is_linked()) worker_->live().push_back(*this);
}

void ConnectionSlot::relaying() {
  if (!handshaking_) return;
  handshaking_ = false;
  --worker_->handshake_gauge();
  worker_->limits().handshake_done(client_);
}

}  // namespace chokepoint::proxy
