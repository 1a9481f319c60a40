#include <fcntl.h>
#include <unistd.h>

#include <chokepoint/relay/pipe_pool.hpp>

namespace chokepoint::relay {
namespace {

void close_pipe(const Pipe& pipe) {
  if (pipe.read_fd >= 0) ::close(pipe.read_fd);
  if (pipe.write_fd >= 0) ::close(pipe.write_fd);
}

}  // namespace

PipePool::~PipePool() {
  for (const Pipe& pipe : idle_)
    close_pipe(pipe);
}

Pipe PipePool::take() {
  // Pooled pipes are empty: their buffer pages are free until lent out again.
  const std::size_t charge = idle_.empty() ? pipe_size_ : idle_.back().capacity;
  if (budget_ != nullptr && !budget_->try_take(charge)) return Pipe{};
  if (!idle_.empty()) {
    const Pipe pipe = idle_.back();
    idle_.pop_back();
    return pipe;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    if (budget_ != nullptr) budget_->give_back(charge);
    return Pipe{};
  }
  // A bigger pipe moves more per splice call; past the per-user pipe budget
  // the kernel refuses and the default (64 KiB) stays, which still works.
  (void)::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(pipe_size_));
  const int granted = ::fcntl(fds[1], F_GETPIPE_SZ);
  Pipe pipe{fds[0], fds[1], granted > 0 ? static_cast<std::size_t>(granted) : pipe_size_};
  // Charge what the kernel actually granted.
  if (budget_ != nullptr && pipe.capacity != charge) {
    budget_->take(pipe.capacity);
    budget_->give_back(charge);
  }
  ++created_;
  return pipe;
}

void PipePool::give_back(Pipe pipe) {
  if (!pipe) return;
  if (budget_ != nullptr) budget_->give_back(pipe.capacity);
  if (idle_.size() >= max_idle_) {
    close_pipe(pipe);
    return;
  }
  idle_.push_back(pipe);
}

void PipePool::discard(Pipe pipe) {
  if (!pipe) return;
  if (budget_ != nullptr) budget_->give_back(pipe.capacity);
  close_pipe(pipe);
}

}  // namespace chokepoint::relay
