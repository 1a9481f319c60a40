// Private to the audit module: a sink's write failures on stderr, bounded.
// A full disk fails every batch (about 50 a second); one line per failure
// would bury everything else on stderr. So the first failure is logged
// when it happens, the ones after it are counted and summed up at most once
// per interval, and the recovery gets one line with the totals.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace chokepoint::audit {

class FailureLog {
 public:
  using Clock = std::chrono::steady_clock;
  FailureLog(std::string what, std::ostream& out, std::chrono::milliseconds interval)
      : what_(std::move(what)), out_(out), interval_(interval) {}

  // A write failed with `error`, losing `lost` records.
  void failed(const std::string& error, std::uint64_t lost, Clock::time_point now);
  // A write succeeded: ends a failure, if one was going on.
  void succeeded();
  // Says what was held back once the interval is over (call now and then).
  void tick(Clock::time_point now);
  bool failing() const { return failing_; }

 private:
  std::string what_;
  std::ostream& out_;
  std::chrono::milliseconds interval_;
  bool failing_ = false;
  Clock::time_point last_line_{};
  std::string last_error_;
  std::uint64_t held_failures_ = 0;  // since the last line
  std::uint64_t held_lost_ = 0;
  std::uint64_t total_failures_ = 0;  // since the failure began
  std::uint64_t total_lost_ = 0;
};

}  // namespace chokepoint::audit
