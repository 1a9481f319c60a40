#include "ares_channel.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace chokepoint::net {
namespace {

constexpr std::chrono::milliseconds kMinTryTimeout{100};
constexpr int kClassIn = 1;  // RFC 1035 section 3.2.4

void library_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    const int rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
  });
}

ares_addr_port_node to_node(const Endpoint& server) {
  ares_addr_port_node node{};
  const auto& bytes = server.address.bytes();
  if (server.address.is_v4()) {
    node.family = AF_INET;
    std::memcpy(&node.addr.addr4, bytes.data(), 4);
  } else {
    node.family = AF_INET6;
    std::memcpy(&node.addr.addr6, bytes.data(), 16);
  }
  node.udp_port = server.port;
  node.tcp_port = server.port;
  return node;
}

}  // namespace

struct AresChannel::Socket {
  Socket(asio::io_context& io, ares_socket_t fd) : descriptor(io, fd), fd(fd) {}
  asio::posix::stream_descriptor descriptor;  // never owns fd: released before c-ares closes it
  ares_socket_t fd;
  bool want_read = false;
  bool want_write = false;
  bool reading = false;  // a read wait is pending
  bool writing = false;
  bool closed = false;  // c-ares has let go of it (the fd may already be another socket)
};

AresConfig fit_retry_schedule(AresConfig config, int servers, std::chrono::milliseconds budget) {
  config.tries = std::clamp(config.tries, 1, 5);
  const long long rounds = (1LL << config.tries) - 1;  // timeouts double every round
  const long long share = budget.count() / (std::max(1, servers) * rounds);
  config.try_timeout =
      std::max(kMinTryTimeout, std::min(config.try_timeout, std::chrono::milliseconds(share)));
  return config;
}

AresChannel::AresChannel(asio::io_context& io, const AresConfig& config) : io_(io), timer_(io) {
  library_init();
  ares_options options{};
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  // The policy decided on the name the client gave: search domains would
  // resolve (and dial) another name (Squid's dns_defnames off, likewise).
  options.flags = ARES_FLAG_NOSEARCH;
  options.timeout = static_cast<int>(config.try_timeout.count());
  options.tries = config.tries;
  options.sock_state_cb = &AresChannel::on_socket_state;
  options.sock_state_cb_data = this;
  std::string resolv_conf = config.resolv_conf;
  if (!resolv_conf.empty()) {
    options.resolvconf_path = resolv_conf.data();
    mask |= ARES_OPT_RESOLVCONF;
  }
  int rc = ares_init_options(&channel_, &options, mask);
  if (rc != ARES_SUCCESS) throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
  if (!config.servers.empty()) {
    std::vector<ares_addr_port_node> nodes;
    for (const Endpoint& server : config.servers)
      nodes.push_back(to_node(server));
    for (std::size_t i = 0; i + 1 < nodes.size(); ++i)
      nodes[i].next = &nodes[i + 1];
    rc = ares_set_servers_ports(channel_, nodes.data());
    if (rc != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw std::runtime_error(std::string("c-ares: --dns-server: ") + ares_strerror(rc));
    }
  }
  ares_options saved{};
  int saved_mask = 0;
  if (ares_save_options(channel_, &saved, &saved_mask) == ARES_SUCCESS) {
    if (saved.lookups) lookups_ = saved.lookups;
    server_count_ = saved.nservers;
    ares_destroy_options(&saved);
  }
}

AresChannel::~AresChannel() {
  ares_destroy(channel_);  // query callbacks, then on_socket_state(fd, 0, 0) for each socket
  for (auto& [fd, socket] : sockets_) {
    socket->closed = true;
    socket->descriptor.release();
  }
  error_code ignored;
  timer_.cancel(ignored);
}

void AresChannel::query(const std::string& name, int type, ares_callback callback, void* arg) {
  ares_query(channel_, name.c_str(), kClassIn, type, callback, arg);
  arm_timer();
}

void AresChannel::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<AresChannel*>(data);
  auto it = self->sockets_.find(fd);
  if (!readable && !writable) {
    if (it == self->sockets_.end()) return;
    // c-ares closes the socket right after this: stop watching it (pending
    // waits end with operation_aborted) without closing it ourselves.
    it->second->closed = true;
    it->second->descriptor.release();
    self->sockets_.erase(it);
    return;
  }
  if (it == self->sockets_.end())
    it = self->sockets_.emplace(fd, std::make_shared<Socket>(self->io_, fd)).first;
  const auto socket = it->second;
  socket->want_read = readable != 0;
  socket->want_write = writable != 0;
  if (socket->want_read && !socket->reading) self->watch(socket, false);
  if (socket->want_write && !socket->writing) self->watch(socket, true);
}

void AresChannel::watch(std::shared_ptr<Socket> socket, bool for_write) {
  (for_write ? socket->writing : socket->reading) = true;
  const auto type = for_write ? asio::posix::descriptor_base::wait_write
                              : asio::posix::descriptor_base::wait_read;
  socket->descriptor.async_wait(type, [this, socket, for_write](const error_code& ec) {
    (for_write ? socket->writing : socket->reading) = false;
    if (ec || socket->closed) return;
    process(for_write ? ARES_SOCKET_BAD : socket->fd, for_write ? socket->fd : ARES_SOCKET_BAD);
    // Processing may have closed this socket, or changed what c-ares wants.
    const bool wanted = for_write ? socket->want_write : socket->want_read;
    const bool pending = for_write ? socket->writing : socket->reading;
    if (!socket->closed && wanted && !pending) watch(socket, for_write);
  });
}

void AresChannel::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  ares_process_fd(channel_, read_fd, write_fd);
  arm_timer();
}

void AresChannel::arm_timer() {
  timeval limit{};
  timeval* next = ares_timeout(channel_, nullptr, &limit);
  if (!next) return;  // nothing pending; an armed timer firing early costs one idle pass
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(next->tv_sec) +
                        std::chrono::microseconds(next->tv_usec);
  // Only an earlier deadline needs a new wait: a later one is found when the
  // armed timer fires and asks c-ares again.
  if (timer_armed_ && deadline >= timer_deadline_) return;
  timer_armed_ = true;
  timer_deadline_ = deadline;
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_at(deadline);
  timer_.async_wait([this, generation](const error_code& ec) {
    if (generation != timer_generation_) return;  // replaced by an earlier deadline
    timer_armed_ = false;
    if (ec) return;
    process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // retransmissions and timeouts
  });
}

}  // namespace chokepoint::net
