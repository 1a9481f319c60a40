#include <cerrno>
#include <sys/socket.h>

#include <chokepoint/proxy/upstream_pool.hpp>

namespace chokepoint::proxy {
namespace {

// A pooled connection is usable when reading it would block: no EOF, no
// error and no unsolicited bytes from the server.
bool still_open(tcp::socket& socket) {
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::optional<PooledConnection> UpstreamPool::take(const std::string& key) {
  const auto it = idle_.find(key);
  if (it == idle_.end()) return std::nullopt;
  auto& list = it->second;
  while (!list.empty()) {
    Idle idle = std::move(list.back());
    list.pop_back();
    if (still_open(idle.connection.socket)) {
      if (list.empty()) idle_.erase(it);
      return std::move(idle.connection);
    }
    error_code ignored;
    idle.connection.socket.close(ignored);
  }
  idle_.erase(it);
  return std::nullopt;
}

void UpstreamPool::put(const std::string& key, PooledConnection connection) {
  auto& list = idle_[key];
  if (list.size() >= max_per_key_) {
    error_code ignored;
    list.front().connection.socket.close(ignored);
    list.erase(list.begin());
  }
  list.push_back(Idle{std::move(connection), std::chrono::steady_clock::now()});
}

void UpstreamPool::expire(std::chrono::steady_clock::time_point now) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    std::erase_if(list, [&](Idle& idle) {
      if (now - idle.since < keepalive_) return false;
      error_code ignored;
      idle.connection.socket.close(ignored);
      return true;
    });
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
}

void UpstreamPool::clear() {
  for (auto& [key, list] : idle_) {
    for (auto& idle : list) {
      error_code ignored;
      idle.connection.socket.close(ignored);
    }
  }
  idle_.clear();
}

std::size_t UpstreamPool::size() const {
  std::size_t n = 0;
  for (const auto& [key, list] : idle_)
    n += list.size();
  return n;
}

}  // namespace chokepoint::proxy
