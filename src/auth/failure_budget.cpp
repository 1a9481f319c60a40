#include <algorithm>

#include <chokepoint/auth/failure_budget.hpp>

namespace chokepoint::auth {

std::optional<std::chrono::milliseconds> FailureBudget::wait(std::string_view key,
                                                             Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end() || now >= it->second.until) return std::nullopt;
  return std::chrono::ceil<std::chrono::milliseconds>(it->second.until - now);
}

void FailureBudget::failed(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_keys && !make_room(now)) return;
    it = entries_.emplace(std::string(key), Entry{}).first;
  }
  Entry& e = it->second;
  if (e.failures > 0 && now - e.last_failure >= options_.forget_after) e = Entry{};
  e.last_failure = now;
  if (++e.failures <= options_.free_failures) return;
  // 1, 2, 4, ... times the first backoff; the shift is bounded so it cannot overflow.
  const std::size_t doublings = std::min<std::size_t>(e.failures - options_.free_failures - 1, 30);
  const auto backoff =
      std::min(options_.max_backoff, options_.first_backoff * (std::int64_t{1} << doublings));
  e.until = now + backoff;
}

void FailureBudget::succeeded(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(key); it != entries_.end()) entries_.erase(it);
}

bool FailureBudget::has_failed(std::string_view key) const {
  std::lock_guard lock(mutex_);
  return entries_.contains(key);
}

std::size_t FailureBudget::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

bool FailureBudget::make_room(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& item) {
    const Entry& e = item.second;
    return now >= e.until &&
           (e.failures <= options_.free_failures || now - e.last_failure >= options_.forget_after);
  });
  if (entries_.size() < options_.max_keys) return true;
  // Still full of keys that went over their budget: those that may try
  // again now are the ones with the least left to say.
  std::erase_if(entries_, [&](const auto& item) { return now >= item.second.until; });
  return entries_.size() < options_.max_keys;
}

}  // namespace chokepoint::auth
