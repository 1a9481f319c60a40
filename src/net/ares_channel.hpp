// Private to the net module: one c-ares 1.18 channel driven by one
// io_context, with no blocking call and no thread of its own (the way Envoy
// and curl drive c-ares, in Asio's terms).
//
// c-ares tells which sockets it wants watched through its socket-state
// callback; each is wrapped in an Asio descriptor that watches it for
// readiness and never owns it (released before c-ares closes it), and
// ares_process_fd() runs when one is ready. A timer set from ares_timeout()
// runs c-ares' retransmissions and timeouts. c-ares 1.18 channels are not
// thread-safe and have no per-query cancel (ares_cancel ends every query
// of the channel), so a channel belongs to one thread and its queries run
// until they are answered or c-ares gives up.
#pragma once

#include <ares.h>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/endpoint.hpp>

namespace chokepoint::net {

struct AresConfig {
  std::vector<Endpoint> servers;  // empty: resolv.conf's nameservers
  std::string resolv_conf;        // the file c-ares reads (servers, rotate, lookup order)
  // c-ares' retry schedule: each try waits `try_timeout`, doubled every
  // round over the servers, `tries` rounds.
  std::chrono::milliseconds try_timeout{5000};
  int tries = 2;
};

class AresChannel {
 public:
  // Start-up only: throws std::runtime_error when c-ares cannot be set up.
  AresChannel(asio::io_context& io, const AresConfig& config);
  // Ends every query (their callbacks see ARES_EDESTRUCTION) and lets go of
  // the sockets. Destroy it before its io_context, with that not running.
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  // Sends one question (class IN, no search domains); `callback` is called
  // once, from a later ares_process_fd() on this thread, or at once on a
  // local failure. Call only on the io_context's thread.
  void query(const std::string& name, int type, ares_callback callback, void* arg);

  // What the channel read at start-up, for the resolver's own decisions:
  // the hosts lookup order ("fb": files, then DNS) and the server count.
  const std::string& lookups() const { return lookups_; }
  int server_count() const { return server_count_; }

 private:
  struct Socket;
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
  void watch(std::shared_ptr<Socket> socket, bool for_write);
  void process(ares_socket_t read_fd, ares_socket_t write_fd);
  void arm_timer();

  asio::io_context& io_;
  ares_channel channel_ = nullptr;
  std::unordered_map<ares_socket_t, std::shared_ptr<Socket>> sockets_;
  asio::steady_timer timer_;
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point timer_deadline_{};
  std::uint64_t timer_generation_ = 0;
  std::string lookups_;
  int server_count_ = 0;
};

// The c-ares retry schedule that fits in `budget` (the lookup timeout) with
// `servers` servers: resolv.conf's tries kept, each try's timeout cut so
// that the whole schedule (servers x timeout x (2^tries - 1)) ends within
// the budget, and never below 100 ms. So a query nobody waits for any more
// ends on its own about when its last waiter gave up.
AresConfig fit_retry_schedule(AresConfig config, int servers, std::chrono::milliseconds budget);

}  // namespace chokepoint::net
