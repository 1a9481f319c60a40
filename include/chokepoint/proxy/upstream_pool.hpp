// Idle upstream connections kept for plain-HTTP keep-alive, per I/O thread.
// Keyed by what was dialled and for which name, so a connection made for one
// host is never reused for another.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <chokepoint/core/asio.hpp>

namespace chokepoint::proxy {

struct PooledConnection {
  tcp::socket socket;
  tcp::endpoint endpoint;
};

class UpstreamPool {
 public:
  explicit UpstreamPool(std::chrono::milliseconds keepalive, std::size_t max_per_key = 8)
      : keepalive_(keepalive), max_per_key_(max_per_key) {}

  // The most recently used idle connection for `key` that the server has not
  // closed meanwhile, or nothing.
  std::optional<PooledConnection> take(const std::string& key);
  void put(const std::string& key, PooledConnection connection);
  // Closes connections idle for longer than the keep-alive.
  void expire(std::chrono::steady_clock::time_point now);
  void clear();
  std::size_t size() const;

 private:
  struct Idle {
    PooledConnection connection;
    std::chrono::steady_clock::time_point since;
  };
  std::chrono::milliseconds keepalive_;
  std::size_t max_per_key_;
  std::unordered_map<std::string, std::vector<Idle>> idle_;
};

}  // namespace chokepoint::proxy
