// Running slow blocking work (getaddrinfo, password hashing) on a pool of its
// own and resuming the calling coroutine on its own thread, with a deadline.
//
// Awaiting asio::post(pool, use_awaitable) would not do: the completion
// runs on the coroutine's executor, so the work would still happen on the
// I/O thread. Here the work runs on the pool and its result is posted back
// to the caller's executor, where its arrival is an AsyncEvent.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/thread_pool.hpp>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/async_event.hpp>

namespace chokepoint {

// Runs `work()` on `pool`; the result, or nullopt when it takes longer than
// `timeout` (a late result is dropped). `work` must own what it uses.
template <class Work>
asio::awaitable<std::optional<std::invoke_result_t<Work&>>> offload(
    asio::thread_pool& pool, Work work, std::chrono::milliseconds timeout) {
  using T = std::invoke_result_t<Work&>;
  struct Slot {
    explicit Slot(const asio::any_io_executor& executor) : arrived(executor) {}
    AsyncEvent arrived;
    std::optional<T> result;
  };
  const auto executor = co_await asio::this_coro::executor;
  auto slot = std::make_shared<Slot>(executor);
  asio::post(pool, [slot, executor, work = std::move(work)]() mutable {
    T result = work();
    // The pool lets go of the slot here: its last owner must be on the
    // caller's thread (its timer belongs to the caller's io_context, which
    // may be gone once the caller has its result).
    asio::post(executor, [slot = std::move(slot), result = std::move(result)]() mutable {
      slot->result.emplace(std::move(result));
      slot->arrived.set();
    });
  });
  co_await slot->arrived.wait_for(timeout);
  co_return std::move(slot->result);
}

}  // namespace chokepoint
