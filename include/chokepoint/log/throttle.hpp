// The one rate limit for operational messages. Something that can recur
// many times a second (an accept the kernel refuses, a batch of records a
// full disk loses) is said at once the first time, then at most once per
// interval with how many times it happened since the last line: stderr keeps
// a few lines about it, not thousands that bury everything else.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace chokepoint::log {

class Throttle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Throttle(Clock::duration interval) : interval_(interval) {}

  // Counts `times` more. When a line is due (none said yet, or `interval`
  // since the last) and the count is not 0: returns the count since the last
  // line and starts the next interval now. Otherwise 0: say nothing yet.
  std::uint64_t note(Clock::time_point now, std::uint64_t times = 1);
  // Returns the count since the last line whatever the time (a final
  // summary) and starts over from 0.
  std::uint64_t take(Clock::time_point now);
  // A line about it was just said otherwise (the first of an outage, with
  // its details): the next interval starts now, from 0.
  void restart(Clock::time_point now);

 private:
  std::uint64_t said(Clock::time_point now);

  const Clock::duration interval_;
  std::mutex mutex_;  // the proxy's workers share one
  std::optional<Clock::time_point> last_line_;
  std::uint64_t count_ = 0;
};

}  // namespace chokepoint::log
