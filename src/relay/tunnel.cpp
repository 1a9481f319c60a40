#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/write.hpp>

#include <chokepoint/relay/tunnel.hpp>

namespace chokepoint::relay {
namespace {

// Bytes asked of one splice call: the pipe holds what the kernel lets it.
constexpr std::size_t kSpliceChunk = std::size_t{1} << 20;
// Splice rounds before yielding, so one busy tunnel cannot starve the other
// connections of its thread.
constexpr int kRoundsPerTurn = 16;
constexpr std::size_t kCopyBuffer = 16 * 1024;

error_code last_error(int err) {
  return error_code(err, boost::system::system_category());
}

}  // namespace

std::string_view to_string(EndReason reason) {
  switch (reason) {
    case EndReason::Eof:
      return "eof";
    case EndReason::Reset:
      return "reset";
    case EndReason::IdleTimeout:
      return "idle_timeout";
    case EndReason::HalfCloseTimeout:
      return "half_close_timeout";
    case EndReason::Shutdown:
      return "shutdown";
  }
  return "reset";
}

std::string_view to_string(PathUsed path) {
  return path == PathUsed::Copy ? "copy" : "splice";
}

Tunnel::Tunnel(tcp::socket client, tcp::socket upstream, PipePool& pipes,
               const TunnelOptions& options, std::uint64_t already_up)
    : client_(std::move(client)),
      upstream_(std::move(upstream)),
      pipes_(pipes),
      last_activity_(std::chrono::steady_clock::now()),
      idle_timeout_(options.idle_timeout),
      half_close_timeout_(options.half_close_timeout),
      started_(last_activity_) {
  up_.from = &client_;
  up_.to = &upstream_;
  up_.reader = EndedBy::Client;
  up_.writer = EndedBy::Upstream;
  down_.from = &upstream_;
  down_.to = &client_;
  down_.reader = EndedBy::Upstream;
  down_.writer = EndedBy::Client;
  up_.copying = down_.copying = options.force_copy;
  up_.bytes = already_up;
}

void Tunnel::start(Done done) {
  done_ = std::move(done);
  // From the event loop, so `done` never runs inside start().
  began();
  asio::post(client_.get_executor(), [this] {
    pump(up_);
    pump(down_);
    ended();
  });
}

std::optional<EndReason> Tunnel::timed_out(std::chrono::steady_clock::time_point now) const {
  const bool half_closed = up_.done || down_.done;
  if (half_closed && now - last_activity_ >= std::min(idle_timeout_, half_close_timeout_))
    return EndReason::HalfCloseTimeout;
  if (now - last_activity_ >= idle_timeout_) return EndReason::IdleTimeout;
  return std::nullopt;
}

void Tunnel::ended() {
  if (--pending_ == 0 && finished_) report();
}

void Tunnel::report() {
  // Posted: the owner may destroy the tunnel in `done`, and nothing of it
  // runs any more once this handler does.
  asio::post(client_.get_executor(), [done = std::move(done_), result = result_] { done(result); });
}

void Tunnel::post_pump(Direction& d) {
  began();
  asio::post(client_.get_executor(), [this, &d] {
    pump(d);
    ended();
  });
}

void Tunnel::pump(Direction& d) {
  if (finished_ || d.done) return;
  if (d.copying) {
    if (!d.buffer) {
      d.buffer = std::make_unique<char[]>(kCopyBuffer);
      if (BufferBudget* budget = pipes_.budget()) budget->take(kCopyBuffer);
    }
    copy_read(d);
  } else {
    splice_pump(d);
  }
}

void Tunnel::splice_pump(Direction& d) {
  const int from = d.from->native_handle();
  const int to = d.to->native_handle();
  for (int round = 0; round < kRoundsPerTurn; ++round) {
    if (d.in_pipe > 0) {
      const ssize_t n = ::splice(d.pipe.read_fd, nullptr, to, nullptr, d.in_pipe,
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        d.in_pipe -= static_cast<std::size_t>(n);
        d.bytes += static_cast<std::uint64_t>(n);
        last_activity_ = std::chrono::steady_clock::now();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return wait(d, *d.to, tcp::socket::wait_write);
      return fail(last_error(n < 0 ? errno : EPIPE), d.writer);
    }
    if (d.eof) return finish_direction(d);
    if (!d.pipe) {
      d.pipe = pipes_.take();
      // No pipe (the buffer budget is spent, or the process is out of
      // descriptors): the pipe is empty here, so the direction may switch
      // to copying, which needs neither.
      if (!d.pipe) {
        d.copying = true;
        return pump(d);
      }
    }
    const ssize_t n = ::splice(from, nullptr, d.pipe.write_fd, nullptr, kSpliceChunk,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      d.in_pipe = static_cast<std::size_t>(n);
      d.moved_any = true;
      continue;
    }
    if (n == 0) {
      d.eof = true;
      continue;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      // The pipe is empty here (it is drained before every read), so EAGAIN
      // means the socket has nothing: hand the pipe back while we wait.
      pipes_.give_back(std::exchange(d.pipe, Pipe{}));
      return wait(d, *d.from, tcp::socket::wait_read);
    }
    if (!d.moved_any && (err == EINVAL || err == ENOSYS)) {
      pipes_.give_back(std::exchange(d.pipe, Pipe{}));
      d.copying = true;
      return pump(d);
    }
    return fail(last_error(err), d.reader);
  }
  post_pump(d);
}

void Tunnel::wait(Direction& d, tcp::socket& socket, tcp::socket::wait_type type) {
  began();
  const EndedBy side = &socket == d.from ? d.reader : d.writer;
  socket.async_wait(type, [this, &d, side](const error_code& ec) {
    if (!finished_) {
      if (ec) {
        fail(ec, side);
      } else {
        pump(d);
      }
    }
    ended();
  });
}

void Tunnel::copy_read(Direction& d) {
  // Read directly and wait for readiness only on EAGAIN, as the splice path
  // does. An Asio read would rely on an epoll edge, and the edge of a FIN
  // that an earlier reader (the session's ClientHello peek) already saw
  // never comes again: the tunnel would wait for ever.
  while (true) {
    const ssize_t n = ::recv(d.from->native_handle(), d.buffer.get(), kCopyBuffer, MSG_DONTWAIT);
    if (n > 0) {
      last_activity_ = std::chrono::steady_clock::now();
      return copy_write(d, static_cast<std::size_t>(n));
    }
    if (n == 0) {
      d.eof = true;
      return finish_direction(d);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return wait(d, *d.from, tcp::socket::wait_read);
    return fail(last_error(errno), d.reader);
  }
}

void Tunnel::copy_write(Direction& d, std::size_t length) {
  began();
  asio::async_write(*d.to, asio::buffer(d.buffer.get(), length),
                    [this, &d](const error_code& ec, std::size_t n) {
                      if (!finished_) {
                        if (ec) {
                          fail(ec, d.writer);
                        } else {
                          d.bytes += n;
                          d.moved_any = true;
                          copy_read(d);
                        }
                      }
                      ended();
                    });
}

void Tunnel::release_buffers(Direction& d) {
  if (d.in_pipe > 0) {
    pipes_.discard(std::exchange(d.pipe, Pipe{}));
  } else {
    pipes_.give_back(std::exchange(d.pipe, Pipe{}));
  }
  if (d.buffer) {
    d.buffer.reset();
    if (BufferBudget* budget = pipes_.budget()) budget->give_back(kCopyBuffer);
  }
}

void Tunnel::finish_direction(Direction& d) {
  release_buffers(d);
  d.done = true;
  if (up_.done && down_.done) {
    // Both sides sent their FIN: the first to do so ended it.
    return finish(EndReason::Eof, {}, first_eof_);
  }
  first_eof_ = d.reader;
  // The half-close clock starts now.
  last_activity_ = std::chrono::steady_clock::now();
  // Pass the FIN on: the other side may keep sending (half-close).
  error_code ignored;
  d.to->shutdown(tcp::socket::shutdown_send, ignored);
}

void Tunnel::fail(const error_code& ec, EndedBy side) {
  finish(EndReason::Reset, ec, side);
}

void Tunnel::stop(EndReason reason) {
  finish(reason, {}, EndedBy::Proxy);
}

void Tunnel::finish(EndReason reason, const error_code& ec, EndedBy by) {
  if (finished_) return;
  finished_ = true;
  error_code ignored;
  if (reason == EndReason::Reset) {
    // A reset on one side is passed on as a reset (SO_LINGER 0), never as a
    // FIN: a client whose protocol does not frame its own end would take a
    // cut transfer for a whole one.
    client_.set_option(asio::socket_base::linger(true, 0), ignored);
    upstream_.set_option(asio::socket_base::linger(true, 0), ignored);
  }
  client_.close(ignored);
  upstream_.close(ignored);
  release_buffers(up_);
  release_buffers(down_);
  result_.bytes_up = up_.bytes;
  result_.bytes_down = down_.bytes;
  result_.path = (up_.copying || down_.copying) ? PathUsed::Copy : PathUsed::Splice;
  result_.end = reason;
  result_.ended_by = by;
  result_.error = ec;
  // Closing the sockets aborted the pending waits; the last of them to
  // return reports the end.
  if (pending_ == 0) report();
}

}  // namespace chokepoint::relay
