#include <algorithm>

#include <chokepoint/proxy/descriptor_budget.hpp>

namespace chokepoint::proxy {
namespace {

// Held by the process whatever its load (measured: about 30 with two
// threads, an admin endpoint, a file sink and a file watch), with room for
// a few syslog connections and resolver sockets.
constexpr std::size_t kFixedReserve = 64;
// Idle pipes kept per thread when descriptors are plentiful (relay/pipe_pool.hpp).
constexpr std::size_t kMaxIdlePipes = 64;

}  // namespace

DescriptorBudget descriptor_budget(std::size_t descriptors, int threads) {
  const std::size_t n = static_cast<std::size_t>(std::max(1, threads));
  DescriptorBudget budget;
  // Idle pipes take at most a 32nd of the descriptors (two each).
  budget.idle_pipes_per_thread = std::min(kMaxIdlePipes, descriptors / (64 * n));
  const std::size_t reserve = kFixedReserve + n * budget.idle_pipes_per_thread * 2;
  budget.max_connections = descriptors > reserve ? (descriptors - reserve) / 2 : 1;
  return budget;
}

}  // namespace chokepoint::proxy
