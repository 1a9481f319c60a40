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
// The tunnel belongs to its owner (the session), which keeps it alive until
// the tunnel calls `done`; `done` runs only once no operation of the tunnel
// is pending any more (and from the event loop, never inside a call into
// the tunnel), so the owner may destroy it right there. No coroutine waits
// on a tunnel: an idle tunnel is this object, its sockets and its owner,
// nothing more. All of a tunnel runs on one io_context thread; none of it is
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/relay/pipe_pool.hpp>

namespace chokepoint::relay {

enum class EndReason : std::uint8_t {
  Eof,               // both sides closed cleanly
  Reset,             // a side reset or the connection broke (the other side gets a reset)
  IdleTimeout,       // no bytes either way for the idle timeout
  HalfCloseTimeout,  // one side closed, and nothing moved for the half-close timeout
  Shutdown,          // the proxy is stopping
};
std::string_view to_string(EndReason reason);

enum class PathUsed : std::uint8_t { Splice, Copy };
std::string_view to_string(PathUsed path);

// Which side ended the tunnel: the first to close or fail, or the proxy.
enum class EndedBy : std::uint8_t { Client, Upstream, Proxy };

struct TunnelResult {
  std::uint64_t bytes_up = 0;        // client to upstream
  std::uint64_t bytes_down = 0;      // upstream to client
  PathUsed path = PathUsed::Splice;  // Copy when either direction copied
  EndReason end = EndReason::Eof;
  EndedBy ended_by = EndedBy::Proxy;
  error_code error;
};

struct TunnelOptions {
  bool force_copy = false;  // the fallback path on purpose (tests, odd sockets)
  // Both enforced by the owner's sweeps (timed_out()). Once one side has
  // closed, the other has the half-close timeout instead, if it is shorter.
  std::chrono::milliseconds idle_timeout{std::chrono::hours(1)};
  std::chrono::milliseconds half_close_timeout{std::chrono::hours(1)};
};

class Tunnel {
 public:
  // Both sockets must already be non-blocking at the OS level (any Asio
  // asynchronous read, write or connect on them has made them so), because
  // splice() then returns EAGAIN instead of blocking the thread.
  // `already_up`: bytes the caller already sent upstream (early data),
  // counted in bytes_up.
  Tunnel(tcp::socket client, tcp::socket upstream, PipePool& pipes, const TunnelOptions& options,
         std::uint64_t already_up);
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  using Done = std::function<void(const TunnelResult&)>;
  // Relays until both directions are done, an error, or stop(); then closes
  // both sockets and, once nothing of the tunnel is pending, calls `done`.
  void start(Done done);
  // Ends the tunnel now (idle timeout, shutdown); `done` gets `reason`.
  void stop(EndReason reason);
  // Why the tunnel should end at `now`, if a timeout has passed: idle, or
  // half-closed for the half-close timeout.
  std::optional<EndReason> timed_out(std::chrono::steady_clock::time_point now) const;

  std::chrono::steady_clock::time_point last_activity() const { return last_activity_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  std::uint64_t bytes_up() const { return up_.bytes; }
  std::uint64_t bytes_down() const { return down_.bytes; }

 private:
  struct Direction {
    tcp::socket* from;
    tcp::socket* to;
    EndedBy reader;  // the side `from` belongs to
    EndedBy writer;  // the side `to` belongs to
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
  void finish_direction(Direction& d);
  void release_buffers(Direction& d);
  void fail(const error_code& ec, EndedBy side);
  void finish(EndReason reason, const error_code& ec, EndedBy by);
  void wait(Direction& d, tcp::socket& socket, tcp::socket::wait_type type);
  void post_pump(Direction& d);
  // Every handler of the tunnel goes through these: `done` runs only once
  // the count is back to zero after the finish.
  void began() { ++pending_; }
  void ended();
  void report();

  tcp::socket client_;
  tcp::socket upstream_;
  PipePool& pipes_;
  Direction up_;
  Direction down_;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::milliseconds idle_timeout_;
  std::chrono::milliseconds half_close_timeout_;
  std::chrono::steady_clock::time_point started_;
  TunnelResult result_;
  Done done_;
  int pending_ = 0;
  EndedBy first_eof_ = EndedBy::Proxy;  // the side whose FIN came first
  bool finished_ = false;
};

}  // namespace chokepoint::relay
