// Refusal floods leave bounded records (src/proxy/refusal_throttle.hpp).
#include "refusal_throttle.hpp"

#include <cstdio>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

using namespace chokepoint;
using namespace chokepoint::proxy;
using Clock = std::chrono::steady_clock;

namespace {

audit::Record refusal(const std::string& client, audit::Reason reason, int n) {
  audit::Record r;
  r.event = audit::Event::Error;
  r.client = client;
  r.reason = reason;
  r.id = "id-" + std::to_string(n);
  return r;
}

const auto t0 = Clock::time_point() + std::chrono::hours(1);

}  // namespace

TEST_CASE("a flood leaves its first refusals and one summary per second", "[proxy][throttle]") {
  RefusalThrottle throttle(3);
  std::vector<audit::Record> written;
  const auto emit = [&](audit::Record&& r) { written.push_back(std::move(r)); };
  const auto offer = [&](audit::Record r, Clock::time_point at) {
    if (throttle.pass(r, at, emit)) written.push_back(std::move(r));
  };
  for (int i = 0; i < 1000; ++i)
    offer(refusal("10.0.0.66:" + std::to_string(1000 + i), audit::Reason::PendingHeadsLimit, i),
          t0 + std::chrono::microseconds(i * 500));  // all within one second
  // Another client and another reason are not held up by the flood.
  offer(refusal("10.0.0.7:5000", audit::Reason::PendingHeadsLimit, 5000), t0);
  offer(refusal("10.0.0.66:6000", audit::Reason::BadRequest, 6000), t0);
  // Opens and closes always pass.
  audit::Record open;
  open.event = audit::Event::Open;
  open.client = "10.0.0.66:7000";
  CHECK(throttle.pass(open, t0, emit));
  REQUIRE(written.size() == 5);
  CHECK(written[0].id == "id-0");
  CHECK(written[2].id == "id-2");
  CHECK(written[3].client == "10.0.0.7:5000");
  CHECK(written[4].reason == audit::Reason::BadRequest);

  throttle.flush(t0 + std::chrono::seconds(1), emit);
  REQUIRE(written.size() == 6);
  const audit::Record& summary = written[5];
  CHECK(summary.id == "id-999");  // the newest of those held back stands for them
  CHECK(summary.suppressed == 996);
  CHECK(summary.reason == audit::Reason::PendingHeadsLimit);
  // 3 written + the summary + the 996 it stands for: every refusal accounted for.
  CHECK(3 + 1 + summary.suppressed == 1000);
}

TEST_CASE("the next second starts afresh, and its late summary is not lost", "[proxy][throttle]") {
  RefusalThrottle throttle(1);
  std::vector<audit::Record> written;
  const auto emit = [&](audit::Record&& r) { written.push_back(std::move(r)); };
  const auto offer = [&](audit::Record r, Clock::time_point at) {
    if (throttle.pass(r, at, emit)) written.push_back(std::move(r));
  };
  offer(refusal("10.0.0.66:1", audit::Reason::RateLimited, 1), t0);
  offer(refusal("10.0.0.66:2", audit::Reason::RateLimited, 2), t0);
  offer(refusal("10.0.0.66:3", audit::Reason::RateLimited, 3), t0);
  // No flush came by: the next second's first refusal brings the summary out.
  offer(refusal("10.0.0.66:4", audit::Reason::RateLimited, 4), t0 + std::chrono::seconds(1));
  REQUIRE(written.size() == 3);
  CHECK(written[1].id == "id-3");
  CHECK(written[1].suppressed == 1);
  CHECK(written[2].id == "id-4");
  CHECK(written[2].suppressed == 0);
  throttle.flush(Clock::time_point::max(), emit);
  CHECK(written.size() == 3);  // nothing was held in the second second
}

TEST_CASE("many clients share a window past the key bound", "[proxy][throttle]") {
  RefusalThrottle throttle(1, 4);
  std::size_t written = 0;
  const auto emit = [&](audit::Record&&) { ++written; };
  for (int i = 0; i < 100; ++i) {
    audit::Record r = refusal("10.1.0." + std::to_string(i) + ":1", audit::Reason::BadRequest, i);
    if (throttle.pass(r, t0, emit)) ++written;
  }
  throttle.flush(Clock::time_point::max(), emit);
  // Four clients with their own window, the rest in one shared one.
  CHECK(written == 4 + 1 + 1);
}

namespace {

audit::Record denied(const std::string& client, const std::string& host, int n) {
  audit::Record r = refusal(client, audit::Reason::NoMatchingRule, n);
  r.event = audit::Event::Deny;
  r.host = host;
  r.port = 443;
  return r;
}

}  // namespace

TEST_CASE("every denied name a client tried keeps a record", "[proxy][throttle]") {
  // Issue 19: 300 CONNECTs to 300 distinct denied names left 44 records.
  RefusalThrottle throttle(10);
  std::vector<audit::Record> written;
  const auto emit = [&](audit::Record&& r) { written.push_back(std::move(r)); };
  for (int i = 0; i < 300; ++i) {
    audit::Record r = denied("10.0.0.66:" + std::to_string(2000 + i),
                             "name-" + std::to_string(i) + ".example", i);
    if (throttle.pass(r, t0, emit)) written.push_back(std::move(r));
  }
  throttle.flush(Clock::time_point::max(), emit);
  std::set<std::string> names;
  for (const auto& r : written)
    names.insert(r.host);
  CHECK(names.size() == 300);
}

TEST_CASE("a flood of one denied name is summarised", "[proxy][throttle]") {
  RefusalThrottle throttle(10);
  std::vector<audit::Record> written;
  const auto emit = [&](audit::Record&& r) { written.push_back(std::move(r)); };
  for (int i = 0; i < 500; ++i) {
    audit::Record r = denied("10.0.0.66:" + std::to_string(2000 + i), "evil.example", i);
    if (throttle.pass(r, t0, emit)) written.push_back(std::move(r));
  }
  // Another port of the same name is another destination.
  audit::Record other = denied("10.0.0.66:9", "evil.example", 9999);
  other.port = 80;
  if (throttle.pass(other, t0, emit)) written.push_back(std::move(other));
  throttle.flush(Clock::time_point::max(), emit);
  REQUIRE(written.size() == 10 + 1 + 1);
  std::uint64_t accounted = 0;
  for (const auto& r : written)
    accounted += 1 + r.suppressed;
  CHECK(accounted == 501);
}

TEST_CASE("past the key bound, refusals with a destination are all written", "[proxy][throttle]") {
  RefusalThrottle throttle(1, 4);
  std::set<std::string> names;
  const auto emit = [&](audit::Record&& r) { names.insert(r.host); };
  for (int i = 0; i < 100; ++i) {
    audit::Record r = denied("10.1.0." + std::to_string(i) + ":1", "n" + std::to_string(i), i);
    if (throttle.pass(r, t0, emit)) names.insert(r.host);
  }
  throttle.flush(Clock::time_point::max(), emit);
  CHECK(names.size() == 100);
}

TEST_CASE("IPv6 clients of one /64 share their windows", "[proxy][throttle]") {
  // One host rotating through its /64 is one client.
  RefusalThrottle throttle(2, 4096, ClientPrefixes{32, 64});
  std::size_t written = 0;
  const auto emit = [&](audit::Record&&) { ++written; };
  for (int i = 0; i < 40; ++i) {
    char client[64];
    std::snprintf(client, sizeof client, "[2001:db8:0:1::%x]:4000", i + 1);
    audit::Record r = refusal(client, audit::Reason::RateLimited, i);
    if (throttle.pass(r, t0, emit)) ++written;
  }
  throttle.flush(Clock::time_point::max(), emit);
  CHECK(written == 2 + 1);
  // With /128 keys, each address would have been a client of its own.
  RefusalThrottle per_address(2, 4096, ClientPrefixes{32, 128});
  written = 0;
  for (int i = 0; i < 40; ++i) {
    char client[64];
    std::snprintf(client, sizeof client, "[2001:db8:0:1::%x]:4000", i + 1);
    audit::Record r = refusal(client, audit::Reason::RateLimited, i);
    if (per_address.pass(r, t0, emit)) ++written;
  }
  CHECK(written == 40);
}
