// Private to the audit module: a sink's write failures, told to the
// operator and bounded. A full disk fails every batch (about 50 a second);
// one line per failure would bury everything else on stderr. So the first
// failure is said when it happens, the ones after it are counted and summed
// up at most once per interval (log::Throttle), and the recovery gets one
// line with the totals.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <chokepoint/log/log.hpp>
#include <chokepoint/log/throttle.hpp>

namespace chokepoint::audit {

class FailureLog {
 public:
  using Clock = log::Throttle::Clock;
  FailureLog(std::string what, log::Output& out, std::chrono::milliseconds interval)
      : what_(std::move(what)), out_(out), interval_(interval), throttle_(interval) {}

  // A write failed with `error`, losing `lost` records.
  void failed(const std::string& error, std::uint64_t lost, Clock::time_point now);
  // A write succeeded: ends a failure, if one was going on.
  void succeeded();
  // Says what was held back once the interval is over (call now and then).
  void tick(Clock::time_point now);
  bool failing() const { return failing_; }

 private:
  void say_held(std::uint64_t failures);

  std::string what_;
  log::Output& out_;
  std::chrono::milliseconds interval_;
  log::Throttle throttle_;  // counts the failed writes since the last line
  bool failing_ = false;
  std::string last_error_;
  std::uint64_t held_lost_ = 0;       // since the last line
  std::uint64_t total_failures_ = 0;  // since the failure began
  std::uint64_t total_lost_ = 0;
};

}  // namespace chokepoint::audit
