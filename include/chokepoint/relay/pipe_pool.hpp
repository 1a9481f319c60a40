// Pipes for splice(2), pooled per I/O thread.
//
// A tunnel takes a pipe only while bytes are moving and gives it back as
// soon as the pipe is empty, so an idle tunnel holds no pipe (and no kernel
// pipe buffer). A pipe that still holds data is never pooled: it is closed,
// because its bytes belong to a connection that is gone (HAProxy pipe.c).
#pragma once

#include <cstddef>
#include <vector>

#include <chokepoint/relay/buffer_budget.hpp>

namespace chokepoint::relay {

struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
  std::size_t capacity = 0;  // what the kernel granted (F_GETPIPE_SZ)
  explicit operator bool() const { return read_fd >= 0; }
};

class PipePool {
 public:
  // `pipe_size`: F_SETPIPE_SZ for new pipes (the kernel may round or refuse;
  // a refusal keeps its default). `max_idle`: pipes kept for reuse. A pipe
  // lent out counts against `budget` (if any) until it comes back.
  explicit PipePool(std::size_t pipe_size = std::size_t{1} << 18, std::size_t max_idle = 64,
                    BufferBudget* budget = nullptr)
      : pipe_size_(pipe_size), max_idle_(max_idle), budget_(budget) {}
  ~PipePool();
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;

  // A pipe, or an empty Pipe when the process is out of descriptors or the
  // budget is spent.
  Pipe take();
  // Returns an empty pipe to the pool.
  void give_back(Pipe pipe);
  // Closes a lent pipe that may still hold data.
  void discard(Pipe pipe);
  BufferBudget* budget() const { return budget_; }

  std::size_t idle() const { return idle_.size(); }
  std::size_t created() const { return created_; }

 private:
  std::size_t pipe_size_;
  std::size_t max_idle_;
  BufferBudget* budget_;
  std::vector<Pipe> idle_;
  std::size_t created_ = 0;
};

}  // namespace chokepoint::relay
