// Private to the proxy module: refusal floods leave bounded records, and
// never at the cost of which client tried which destination.
//
// Per client (its network: client_network.hpp), reason and destination
// (host and port), and per second, the first refusals are written as they
// come; the rest of that second are only counted, and when the second is
// over one summary record stands for them: the last of them, with
// `"suppressed": N` for the N others not written. So a client that floods
// (slow heads, connections past a limit, one denied name at its fastest)
// costs at most first + 1 records per reason and destination per second,
// whatever its rate, while every distinct name it tried keeps a record of
// its own; metrics still count every refusal. Per I/O thread, no lock.
// Past `max_keys` windows in one second, refusals with a destination are
// written as they come (a flood of distinct names is a list of names), and
// those without one (limits, malformed heads) share one window per reason.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/client_network.hpp>
#include <chokepoint/core/endpoint.hpp>

namespace chokepoint::proxy {

class RefusalThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RefusalThrottle(std::size_t first_per_second = 10, std::size_t max_keys = 4096,
                           ClientPrefixes prefixes = {})
      : first_(first_per_second), max_keys_(max_keys), prefixes_(prefixes) {}

  // Whether `record` is to be written now. When not, it was taken (moved
  // from) into the summary of its second. A summary of an earlier second
  // that is due goes to `emit` first.
  template <class Emit>
  bool pass(audit::Record& record, Clock::time_point now, Emit&& emit);
  // Hands `emit` the summaries of the seconds before `now` (every one, for
  // Clock::time_point::max()).
  template <class Emit>
  void flush(Clock::time_point now, Emit&& emit);

 private:
  struct Window {
    std::int64_t second = 0;
    std::size_t seen = 0;
    std::optional<audit::Record> last;  // the newest refusal not written
    std::uint64_t held = 0;             // refusals not written, `last` included
  };
  static std::int64_t second_of(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }
  // The record's client as its network ("10.0.0.9:51514" -> 10.0.0.9/32,
  // "[2001:db8::1]:443" -> 2001:db8::/64); the text as it is when it is not
  // an address (a record of a connection that never had one).
  void client_of(std::string_view client) {
    if (const auto endpoint = Endpoint::parse(client)) {
      key_ = client_key(endpoint->address, prefixes_);
    } else {
      key_.assign(client);
    }
  }
  static audit::Record summary(Window& window) {
    audit::Record record = std::move(*window.last);
    record.suppressed = window.held - 1;
    window.last.reset();
    window.held = 0;
    return record;
  }

  std::size_t first_;
  std::size_t max_keys_;
  ClientPrefixes prefixes_;
  std::unordered_map<std::string, Window> windows_;
  std::string key_;  // scratch
};

template <class Emit>
bool RefusalThrottle::pass(audit::Record& record, Clock::time_point now, Emit&& emit) {
  if (record.event != audit::Event::Deny && record.event != audit::Event::Error) return true;
  client_of(record.client);
  key_.append(1, '\x1f').append(audit::to_string(record.reason));
  const bool has_destination = !record.host.empty();
  if (has_destination) {
    key_.append(1, '\x1f').append(record.host).append(1, ':').append(std::to_string(record.port));
  }
  auto it = windows_.find(key_);
  if (it == windows_.end()) {
    if (windows_.size() >= max_keys_) {
      if (has_destination) return true;
      // Too many windows this second: the rest share one window per reason.
      key_.assign("*\x1f").append(audit::to_string(record.reason));
      it = windows_.find(key_);
    }
    if (it == windows_.end()) it = windows_.emplace(key_, Window{}).first;
  }
  Window& window = it->second;
  const std::int64_t second = second_of(now);
  if (window.second != second) {
    if (window.last) emit(summary(window));
    window = Window{};
    window.second = second;
  }
  if (++window.seen <= first_) return true;
  window.last = std::move(record);
  ++window.held;
  return false;
}

template <class Emit>
void RefusalThrottle::flush(Clock::time_point now, Emit&& emit) {
  const std::int64_t current = now == Clock::time_point::max() ? INT64_MAX : second_of(now);
  for (auto it = windows_.begin(); it != windows_.end();) {
    Window& window = it->second;
    if (window.second >= current) {
      ++it;
      continue;
    }
    if (window.last) emit(summary(window));
    it = windows_.erase(it);
  }
}

}  // namespace chokepoint::proxy
