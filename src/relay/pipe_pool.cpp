#include <fcntl.h>
#include <unistd.h>

#include <chokepoint/relay/pipe_pool.hpp>

namespace chokepoint::relay {

PipePool::~PipePool() {
  for (const Pipe& pipe : idle_)
    destroy(pipe);
}

Pipe PipePool::take() {
  if (!idle_.empty()) {
    const Pipe pipe = idle_.back();
    idle_.pop_back();
    return pipe;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return Pipe{};
  // A bigger pipe moves more per splice call; past the per-user pipe budget
  // the kernel refuses and the default (64 KiB) stays, which still works.
  (void)::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(pipe_size_));
  ++created_;
  return Pipe{fds[0], fds[1]};
}

void PipePool::give_back(Pipe pipe) {
  if (!pipe) return;
  if (idle_.size() >= max_idle_) {
    destroy(pipe);
    return;
  }
  idle_.push_back(pipe);
}

void PipePool::destroy(Pipe pipe) {
  if (pipe.read_fd >= 0) ::close(pipe.read_fd);
  if (pipe.write_fd >= 0) ::close(pipe.write_fd);
}

}  // namespace chokepoint::relay
