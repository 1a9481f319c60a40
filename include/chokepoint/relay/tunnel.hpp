// Relaying an established connection both ways until both sides are done.
//
// Payload moves socket -> pipe -> socket with splice(2) and never enters
// user space (DESIGN.md). Readiness comes from Asio (`async_wait` on the
// sockets); the splices themselves are non-blocking. Each direction ends on
// its own: an EOF from one side is passed on as shutdown(SHUT_WR) to the
// other, and the tunnel finishes when both directions have. An error in
// either direction (reset, broken pipe) ends both.
//
// If the very first splice of a direction is refused (ENOSYS, EINVAL: a
// socket type or kernel without splice), that direction falls back to a
// userspace copy through a fixed buffer. Nothing has moved yet at that
// point, so the switch is safe (HAProxy raw_sock.c); the result says which
// path carried the bytes. A direction also switches to copying when it
// needs a pipe while the buffer budget is spent (relay/buffer_budget.hpp);
// its pipe is empty then, so no byte is reordered.
//
// All of a tunnel runs on one io_context thread; none of it is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include <boost/intrusive/list.hpp>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/relay/pipe_pool.hpp>

namespace chokepoint::relay {

enum class EndReason : std::uint8_t {
  Eof,          // both sides closed cleanly
  Reset,        // a side reset or the connection broke
  IdleTimeout,  // no bytes either way for the idle timeout
  Shutdown,     // the proxy is stopping
};
std::string_view to_string(EndReason reason);

enum class PathUsed : std::uint8_t { Splice, Copy };
std::string_view to_string(PathUsed path);

struct TunnelResult {
  std::uint64_t bytes_up = 0;        // client to upstream
  std::uint64_t bytes_down = 0;      // upstream to client
  PathUsed path = PathUsed::Splice;  // Copy when either direction copied
  EndReason end = EndReason::Eof;
  error_code error;
};

class Tunnel;
using TunnelList = boost::intrusive::list<Tunnel, boost::intrusive::constant_time_size<false>>;

struct TunnelOptions {
  bool force_copy = false;  // the fallback path on purpose (tests, odd sockets)
  std::chrono::milliseconds idle_timeout{std::chrono::hours(1)};  // enforced by the owner's sweeps
  // Appends JSON members describing the tunnel, for listings (/connections).
  // Called only while the tunnel is open, and only when someone asks: a
  // listing is rare, a tunnel is not.
  std::function<void(std::string& out)> describe;
};

class Tunnel : public std::enable_shared_from_this<Tunnel>,
               public boost::intrusive::list_base_hook<
                   boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  using Done = std::function<void(const TunnelResult&)>;

  // Both sockets must already be non-blocking at the OS level (any Asio
  // asynchronous read, write or connect on them has made them so), because
  // splice() then returns EAGAIN instead of blocking the thread.
  // `already_up`: bytes the caller already sent upstream (early data), counted
  // in bytes_up. `registry` tracks live tunnels of this thread (idle sweeps,
  // shutdown); `done` runs once, when the tunnel ends.
  static std::shared_ptr<Tunnel> start(tcp::socket client, tcp::socket upstream, PipePool& pipes,
                                       TunnelList& registry, const TunnelOptions& options,
                                       std::uint64_t already_up, Done done);

  // Ends the tunnel now (idle timeout, shutdown); `done` runs with `reason`.
  void stop(EndReason reason);
  std::chrono::steady_clock::time_point last_activity() const { return last_activity_; }
  std::chrono::milliseconds idle_timeout() const { return idle_timeout_; }
  void describe(std::string& out) const {
    if (describe_) describe_(out);
  }
  std::chrono::steady_clock::time_point started() const { return started_; }
  std::uint64_t bytes_up() const { return up_.bytes; }
  std::uint64_t bytes_down() const { return down_.bytes; }

  Tunnel(tcp::socket client, tcp::socket upstream, PipePool& pipes, const TunnelOptions& options,
         Done done);

 private:
  struct Direction {
    tcp::socket* from;
    tcp::socket* to;
    Pipe pipe;
    std::size_t in_pipe = 0;
    std::uint64_t bytes = 0;
    bool moved_any = false;
    bool eof = false;
    bool done = false;
    bool copying = false;
    std::unique_ptr<char[]> buffer;  // copy path only
  };

  void pump(Direction& d);
  void splice_pump(Direction& d);
  void copy_read(Direction& d);
  void copy_write(Direction& d, std::size_t length);
  void start_copying(Direction& d);
  void finish_direction(Direction& d);
  void release_buffers(Direction& d);
  void fail(const error_code& ec);
  void finish(EndReason reason, const error_code& ec);
  void wait(Direction& d, tcp::socket& socket, tcp::socket::wait_type type);

  tcp::socket client_;
  tcp::socket upstream_;
  PipePool& pipes_;
  Direction up_;
  Direction down_;
  Done done_;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::milliseconds idle_timeout_;
  std::chrono::steady_clock::time_point started_;
  std::function<void(std::string& out)> describe_;
  bool finished_ = false;
};

}  // namespace chokepoint::relay
