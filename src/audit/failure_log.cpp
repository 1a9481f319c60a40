#include "failure_log.hpp"

namespace chokepoint::audit {

void FailureLog::failed(const std::string& error, std::uint64_t lost, Clock::time_point now) {
  total_failures_ += 1;
  total_lost_ += lost;
  last_error_ = error;
  if (!failing_) {
    failing_ = true;
    throttle_.restart(now);
    held_lost_ = 0;
    log::Message(log::Level::Error, out_)
        << "audit: writing " << what_ << " failed: " << error << "; " << lost
        << " records lost (counted); retrying, and saying how it goes at most every "
        << std::chrono::duration_cast<std::chrono::seconds>(interval_).count() << " s";
    return;
  }
  held_lost_ += lost;
  if (const std::uint64_t failures = throttle_.note(now)) say_held(failures);
}

void FailureLog::tick(Clock::time_point now) {
  if (!failing_) return;
  if (const std::uint64_t failures = throttle_.note(now, 0)) say_held(failures);
}

void FailureLog::say_held(std::uint64_t failures) {
  log::Message(log::Level::Warning, out_)
      << "audit: writing " << what_ << " still fails (" << last_error_ << "): " << failures
      << " more failed writes, " << held_lost_ << " more records lost";
  held_lost_ = 0;
}

void FailureLog::succeeded() {
  if (!failing_) return;
  log::Message(log::Level::Notice, out_)
      << "audit: writing " << what_ << " works again after " << total_failures_
      << " failed writes; " << total_lost_ << " records lost meanwhile";
  failing_ = false;
  total_failures_ = total_lost_ = 0;
}

}  // namespace chokepoint::audit
