#include "failure_log.hpp"

namespace chokepoint::audit {

void FailureLog::failed(const std::string& error, std::uint64_t lost, Clock::time_point now) {
  total_failures_ += 1;
  total_lost_ += lost;
  if (!failing_) {
    failing_ = true;
    last_line_ = now;
    last_error_ = error;
    out_ << "chokepoint: audit: writing " << what_ << " failed: " << error << "; " << lost
         << " records lost (counted); retrying, and saying how it goes at most every "
         << std::chrono::duration_cast<std::chrono::seconds>(interval_).count() << " s"
         << std::endl;
    return;
  }
  held_failures_ += 1;
  held_lost_ += lost;
  last_error_ = error;
  tick(now);
}

void FailureLog::tick(Clock::time_point now) {
  if (!failing_ || held_failures_ == 0 || now - last_line_ < interval_) return;
  out_ << "chokepoint: audit: writing " << what_ << " still fails (" << last_error_
       << "): " << held_failures_ << " more failed writes, " << held_lost_ << " more records lost"
       << std::endl;
  last_line_ = now;
  held_failures_ = 0;
  held_lost_ = 0;
}

void FailureLog::succeeded() {
  if (!failing_) return;
  out_ << "chokepoint: audit: writing " << what_ << " works again after " << total_failures_
       << " failed writes; " << total_lost_ << " records lost meanwhile" << std::endl;
  failing_ = false;
  held_failures_ = held_lost_ = total_failures_ = total_lost_ = 0;
}

}  // namespace chokepoint::audit
