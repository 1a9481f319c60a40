#include <chokepoint/log/throttle.hpp>

namespace chokepoint::log {

std::uint64_t Throttle::note(Clock::time_point now, std::uint64_t times) {
  std::lock_guard lock(mutex_);
  count_ += times;
  if (count_ == 0 || (last_line_ && now - *last_line_ < interval_)) return 0;
  return said(now);
}

std::uint64_t Throttle::take(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return count_ == 0 ? 0 : said(now);
}

void Throttle::restart(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  said(now);
}

std::uint64_t Throttle::said(Clock::time_point now) {
  last_line_ = now;
  const std::uint64_t count = count_;
  count_ = 0;
  return count;
}

}  // namespace chokepoint::log
