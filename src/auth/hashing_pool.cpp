#include <chokepoint/auth/hashing_pool.hpp>

namespace chokepoint::auth {

// What the caller's coroutine waits on; lives on the caller's thread. The
// pool holds only a weak reference and the executor to post to, so a caller
// that stopped waiting frees it, and a result arriving late touches nothing.
struct HashingPool::Waiting {
  explicit Waiting(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  std::optional<bool> result;
};

HashingPool::HashingPool(HashingOptions options) : options_(options) {
  for (int i = 0; i < std::max(1, options_.threads); ++i)
    threads_.emplace_back([this] { serve(); });
}

HashingPool::~HashingPool() {
  stop();
}

void HashingPool::stop() {
  std::deque<Job> dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    stats_.dropped += queued();
    dropped.swap(first_);
    later_.clear();
  }
  wake_.notify_all();
  for (auto& thread : threads_)
    thread.join();
}

HashingStats HashingPool::stats() const {
  std::lock_guard lock(mutex_);
  HashingStats copy = stats_;
  copy.queued = queued();
  return copy;
}

void HashingPool::release(const std::string& client) {
  if (client.empty()) return;
  const auto it = per_client_.find(client);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

asio::awaitable<HashingResult> HashingPool::run(std::function<bool()> work, Requester requester,
                                                Lane lane) {
  Cancellation* const cancellation = requester.cancellation;
  if (cancellation && cancellation->requested()) co_return HashingResult{};
  const auto executor = co_await asio::this_coro::executor;
  auto waiting = std::make_shared<Waiting>(executor);
  const auto deadline = std::chrono::steady_clock::now() + options_.max_wait;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) co_return HashingResult{};
    if (queued() >= options_.capacity) {
      ++stats_.busy;
      co_return HashingResult{Hashed::Busy, false};
    }
    std::string client(requester.network);
    if (!client.empty()) {
      std::size_t& held = per_client_[client];
      if (held >= options_.per_client) {
        ++stats_.client_busy;
        co_return HashingResult{Hashed::ClientBusy, false};
      }
      ++held;
    }
    (lane == Lane::First ? first_ : later_)
        .push_back(Job{std::move(work), std::move(client), waiting, executor, deadline});
  }
  wake_.notify_one();
  {
    Cancellation::Registration ends_wait(cancellation, [w = waiting.get()] { w->timer.cancel(); });
    waiting->timer.expires_at(deadline);
    error_code ignored;
    co_await waiting->timer.async_wait(await_into(ignored));
  }
  if (!waiting->result) co_return HashingResult{};
  co_return HashingResult{Hashed::Done, *waiting->result};
}

void HashingPool::serve() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || queued() > 0; });
      if (stopping_) return;
      std::deque<Job>& from = first_.empty() ? later_ : first_;
      job = std::move(from.front());
      from.pop_front();
      if (job.waiting.expired() || std::chrono::steady_clock::now() >= job.deadline) {
        ++stats_.dropped;
        release(job.client);
        continue;
      }
    }
    const bool value = job.work();
    std::lock_guard lock(mutex_);
    release(job.client);
    ++stats_.done;
    // Under the lock: stop() cannot return while a result is on its way.
    if (stopping_) return;
    asio::post(job.executor, [waiting = std::move(job.waiting), value] {
      if (auto w = waiting.lock()) {
        w->result = value;
        w->timer.cancel();
      }
    });
  }
}

}  // namespace chokepoint::auth
