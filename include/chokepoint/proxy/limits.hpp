// Connection limits shared by all I/O threads (a client's connections land
// on different threads, since SO_REUSEPORT spreads them by port): the total,
// per client address, each client's share of the connections still in
// their handshake (so one client reading heads slowly cannot take the
// proxy's whole pending budget), each client's connection rate, and the
// relay buffer budget; and, failing closed, whether the audit log can write.
//
// Every check is made before the connection counts against anything: a
// refused connection holds nothing. Taken once per accepted connection
// (ConnectionSlot) and given back when it ends.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/client_network.hpp>
#include <chokepoint/core/ip.hpp>
#include <chokepoint/proxy/token_buckets.hpp>
#include <chokepoint/relay/buffer_budget.hpp>

namespace chokepoint::audit {
class AuditLog;
}

namespace chokepoint::proxy {

struct LimitOptions {
  // 0 means no limit, in each.
  std::size_t max_connections = 0;
  std::size_t max_connections_per_client = 0;
  std::size_t max_pending_heads_per_client = 0;
  std::size_t max_buffer_memory = 0;
  double max_rate_per_client = 0;  // new connections per second, burst as many
  // Whose rate: the client's (at accept), or, with proxy authentication,
  // the user's (once known: take_rate with user_key()).
  bool rate_by_user = false;
  // Which addresses are one client (client_network.hpp).
  ClientPrefixes prefixes;
};

// Whether a connection may go on, and if not, which limit refused it
// (an audit reason of the Limit kind) and when to try again.
struct Admission {
  audit::Reason refusal = audit::Reason::None;
  std::chrono::milliseconds retry_after{1000};
  explicit operator bool() const { return refusal == audit::Reason::None; }
};

class ConnectionLimits {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ConnectionLimits(const LimitOptions& options);

  // Failing closed (--audit-on-failure refuse): while `audit` cannot write,
  // every new connection is refused (audit_unavailable), before anything
  // else is checked or counted. Start-up only.
  void refuse_while_unavailable(const audit::AuditLog* audit) { audit_ = audit; }

  // A new connection from `client`: its own limits (admit_client()) first,
  // so a client over them takes nothing of what others share, then the
  // shared ones (admit_shared()); `thread_pending_full`: its thread's share
  // of the pending heads is used up. When it is admitted, it counts as a
  // connection and as pending, until handshake_done() and release().
  Admission admit(const IpAddress& client, bool thread_pending_full, Clock::time_point now);
  // Only the limits every connection shares: the total, the thread's pending
  // share, the buffer budget. A connection from a trusted load balancer is
  // admitted with these alone at accept: the balancer's address is nobody's
  // (it carries every client behind it), and the client is known only once
  // its PROXY header is read; then admit_client(). Counts in the total until
  // release_shared().
  Admission admit_shared(bool thread_pending_full);
  // `client`'s own limits: its rate (unless the rate is the proxy user's),
  // its connections, its share of the pending heads. When admitted, it
  // counts as the client's connection and pending until handshake_done()
  // and release_client().
  Admission admit_client(const IpAddress& client, Clock::time_point now);
  // The connection relays now: its client's pending share is free again.
  void handshake_done(const IpAddress& client);
  // The connection ended; `pending`: it had not relayed.
  void release(const IpAddress& client, bool pending) {
    release_client(client, pending);
    release_shared();
  }
  void release_client(const IpAddress& client, bool pending);
  void release_shared() { total_.fetch_sub(1, std::memory_order_relaxed); }

  // A rate check by another key than the address (a proxy user, a rule):
  // nothing when within the rate, else when to try again.
  std::optional<std::chrono::milliseconds> take_rate(std::string_view key, Clock::time_point now) {
    return rates_.take(key, now);
  }
  // A rule's own rate (`max_rate`) for `client`: nothing when within it,
  // else when to try again.
  std::optional<std::chrono::milliseconds> take_rule_rate(std::string_view rule, double rate,
                                                          const IpAddress& client,
                                                          Clock::time_point now);
  bool rate_by_user() const { return rates_.enabled() && options_.rate_by_user; }
  static std::string user_key(std::string_view user) {
    // Appended, not "u" + std::string(user): GCC 12 at -O3 warns that the
    // latter's insert may copy more than any object holds.
    std::string key;
    key.reserve(user.size() + 1);
    key += 'u';
    key += user;
    return key;
  }
  // The key every per-client table uses for `client` (its network).
  std::string key(const IpAddress& client) const { return client_key(client, options_.prefixes); }

  std::size_t open() const { return total_.load(std::memory_order_relaxed); }
  relay::BufferBudget& buffers() { return buffers_; }
  const LimitOptions& options() const { return options_; }

 private:
  struct Client {
    std::size_t connections = 0;
    std::size_t pending = 0;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Client> clients;
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard_of(const std::string& key);
  bool per_client() const {
    return options_.max_connections_per_client != 0 || options_.max_pending_heads_per_client != 0;
  }

  LimitOptions options_;
  const audit::AuditLog* audit_ = nullptr;
  relay::BufferBudget buffers_;
  TokenBuckets rates_;
  // One set of buckets per rule with a rate of its own (a rule and its rate
  // name it: a reload that changes the rate starts afresh).
  std::mutex rule_rates_mutex_;
  std::unordered_map<std::string, std::unique_ptr<TokenBuckets>> rule_rates_;
  std::atomic<std::size_t> total_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace chokepoint::proxy
