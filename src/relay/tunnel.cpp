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
    case EndReason::Shutdown:
      return "shutdown";
  }
  return "reset";
}

std::string_view to_string(PathUsed path) {
  return path == PathUsed::Copy ? "copy" : "splice";
}

Tunnel::Tunnel(tcp::socket client, tcp::socket upstream, PipePool& pipes,
               const TunnelOptions& options, Done done)
    : client_(std::move(client)),
      upstream_(std::move(upstream)),
      pipes_(pipes),
      done_(std::move(done)),
      last_activity_(std::chrono::steady_clock::now()),
      idle_timeout_(options.idle_timeout),
      started_(last_activity_),
      describe_(options.describe) {
  up_.from = &client_;
  up_.to = &upstream_;
  down_.from = &upstream_;
  down_.to = &client_;
  up_.copying = down_.copying = options.force_copy;
}

std::shared_ptr<Tunnel> Tunnel::start(tcp::socket client, tcp::socket upstream, PipePool& pipes,
                                      TunnelList& registry, const TunnelOptions& options,
                                      std::uint64_t already_up, Done done) {
  auto tunnel = std::make_shared<Tunnel>(std::move(client), std::move(upstream), pipes, options,
                                         std::move(done));
  tunnel->up_.bytes = already_up;
  registry.push_back(*tunnel);
  // Start from the event loop so `done` never runs inside start().
  asio::post(tunnel->client_.get_executor(), [tunnel] {
    tunnel->pump(tunnel->up_);
    tunnel->pump(tunnel->down_);
  });
  return tunnel;
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
      return fail(last_error(n < 0 ? errno : EPIPE));
    }
    if (d.eof) return finish_direction(d);
    if (!d.pipe) {
      d.pipe = pipes_.take();
      // The pipe is empty here, so the direction may switch paths.
      if (!d.pipe && pipes_.over_budget()) {
        d.copying = true;
        return pump(d);
      }
      if (!d.pipe) return fail(last_error(EMFILE));
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
    return fail(last_error(err));
  }
  asio::post(client_.get_executor(), [self = shared_from_this(), &d] { self->pump(d); });
}

void Tunnel::wait(Direction& d, tcp::socket& socket, tcp::socket::wait_type type) {
  socket.async_wait(type, [self = shared_from_this(), &d](const error_code& ec) {
    if (self->finished_) return;
    if (ec) return self->fail(ec);
    self->pump(d);
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
    return fail(last_error(errno));
  }
}

void Tunnel::copy_write(Direction& d, std::size_t length) {
  asio::async_write(*d.to, asio::buffer(d.buffer.get(), length),
                    [self = shared_from_this(), &d](const error_code& ec, std::size_t n) {
                      if (self->finished_) return;
                      if (ec) return self->fail(ec);
                      d.bytes += n;
                      d.moved_any = true;
                      self->copy_read(d);
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
  if (up_.done && down_.done) return finish(EndReason::Eof, {});  // closing sends the FIN
  // Pass the FIN on: the other side may keep sending (half-close).
  error_code ignored;
  d.to->shutdown(tcp::socket::shutdown_send, ignored);
}

void Tunnel::fail(const error_code& ec) {
  finish(EndReason::Reset, ec);
}

void Tunnel::stop(EndReason reason) {
  finish(reason, {});
}

void Tunnel::finish(EndReason reason, const error_code& ec) {
  if (finished_) return;
  finished_ = true;
  error_code ignored;
  client_.close(ignored);
  upstream_.close(ignored);
  release_buffers(up_);
  release_buffers(down_);
  unlink();
  TunnelResult result;
  result.bytes_up = up_.bytes;
  result.bytes_down = down_.bytes;
  result.path = (up_.copying || down_.copying) ? PathUsed::Copy : PathUsed::Splice;
  result.end = reason;
  result.error = ec;
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(result);
}

}  // namespace chokepoint::relay
