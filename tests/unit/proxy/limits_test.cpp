// Connection limits and rate limits (include/chokepoint/proxy/limits.hpp,
// token_buckets.hpp), with an injected clock.
#include <catch2/catch.hpp>

#include <chokepoint/proxy/descriptor_budget.hpp>
#include <chokepoint/proxy/limits.hpp>

using namespace chokepoint;
using namespace chokepoint::proxy;
using audit::Reason;
using std::chrono::milliseconds;

namespace {

const auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

}  // namespace

TEST_CASE("a token bucket allows its burst, then its rate", "[proxy][limits]") {
  TokenBuckets buckets(2, 2);  // 2 per second, burst 2
  CHECK_FALSE(buckets.take("a", t0));
  CHECK_FALSE(buckets.take("a", t0));
  const auto wait = buckets.take("a", t0);
  REQUIRE(wait);
  CHECK(*wait == milliseconds(500));
  CHECK(buckets.take("a", t0 + milliseconds(499)));
  CHECK_FALSE(buckets.take("a", t0 + milliseconds(500)));
  // Another key has its own bucket.
  CHECK_FALSE(buckets.take("b", t0));
  // A long pause refills it to the burst, no more.
  CHECK_FALSE(buckets.take("a", t0 + std::chrono::hours(1)));
  CHECK_FALSE(buckets.take("a", t0 + std::chrono::hours(1)));
  CHECK(buckets.take("a", t0 + std::chrono::hours(1)));
}

TEST_CASE("token buckets hold bounded memory under a flood of keys", "[proxy][limits]") {
  TokenBuckets buckets(1, 1, 256);
  for (int i = 0; i < 100000; ++i)
    buckets.take("key" + std::to_string(i), t0 + milliseconds(i / 100));
  CHECK(buckets.size() <= 256);
  // The busiest key stays limited whatever came after it.
  TokenBuckets busy(1, 1, 256);
  CHECK_FALSE(busy.take("busy", t0));
  for (int i = 0; i < 10000; ++i)
    busy.take("other" + std::to_string(i), t0);
  CHECK(busy.take("busy", t0 + milliseconds(10)));
}

TEST_CASE("no rate: every take succeeds and nothing is kept", "[proxy][limits]") {
  TokenBuckets none(0, 0);
  for (int i = 0; i < 1000; ++i)
    CHECK_FALSE(none.take("a", t0));
  CHECK(none.size() == 0);
}

TEST_CASE("each client has its share of pending heads", "[proxy][limits]") {
  LimitOptions options;
  options.max_pending_heads_per_client = 2;
  ConnectionLimits limits(options);
  const IpAddress flood = ip("10.0.0.66");
  const IpAddress good = ip("10.0.0.7");
  CHECK(limits.admit(flood, false, t0));
  CHECK(limits.admit(flood, false, t0));
  CHECK(limits.admit(flood, false, t0).refusal == Reason::ClientPendingHeadsLimit);
  CHECK(limits.open() == 2);  // the refused one counts nowhere
  CHECK(limits.admit(good, false, t0));
  // One of the flood's connections relays now: its share has room again.
  limits.handshake_done(flood);
  CHECK(limits.admit(flood, false, t0));
  CHECK(limits.admit(flood, false, t0).refusal == Reason::ClientPendingHeadsLimit);
  limits.release(flood, false);
  limits.release(flood, true);
  limits.release(flood, true);
  limits.release(good, true);
  CHECK(limits.open() == 0);
  CHECK(limits.admit(flood, false, t0));
}

TEST_CASE("a client's own limits come before the shared ones", "[proxy][limits]") {
  LimitOptions options;
  options.max_connections = 2;
  options.max_connections_per_client = 1;
  options.max_rate_per_client = 1;
  ConnectionLimits limits(options);
  CHECK(limits.admit(ip("10.0.0.1"), false, t0));
  // Over its rate before anything else: told when to come back.
  const Admission again = limits.admit(ip("10.0.0.1"), false, t0);
  CHECK(again.refusal == Reason::RateLimited);
  CHECK(again.retry_after == milliseconds(1000));
  CHECK(limits.admit(ip("10.0.0.1"), false, t0 + std::chrono::seconds(2)).refusal ==
        Reason::ClientConnectionLimit);
  CHECK(limits.admit(ip("10.0.0.2"), true, t0).refusal == Reason::PendingHeadsLimit);
  // That attempt took its token: a refused connection is still an attempt.
  CHECK(limits.admit(ip("10.0.0.2"), false, t0).refusal == Reason::RateLimited);
  CHECK(limits.admit(ip("10.0.0.2"), false, t0 + std::chrono::seconds(1)));
  CHECK(limits.admit(ip("10.0.0.3"), false, t0).refusal == Reason::ConnectionLimit);
  CHECK(limits.open() == 2);
}

TEST_CASE("with proxy authentication the rate is the user's", "[proxy][limits]") {
  LimitOptions options;
  options.max_rate_per_client = 1;
  options.rate_by_user = true;
  ConnectionLimits limits(options);
  CHECK(limits.admit(ip("10.0.0.1"), false, t0));
  CHECK(limits.admit(ip("10.0.0.1"), false, t0));  // the address is not what is limited
  CHECK_FALSE(limits.take_rate(ConnectionLimits::user_key("relay01"), t0));
  CHECK(limits.take_rate(ConnectionLimits::user_key("relay01"), t0));
  CHECK_FALSE(limits.take_rate(ConnectionLimits::user_key("relay02"), t0));
}

TEST_CASE("the descriptor limit sets the default connection limit", "[proxy][limits]") {
  // A machine's default soft limit, this sandbox's cap, and a systemd unit's.
  const DescriptorBudget small = descriptor_budget(256, 2);
  CHECK(small.idle_pipes_per_thread == 2);
  CHECK(small.max_connections == (256 - 64 - 2 * 2 * 2) / 2);
  const DescriptorBudget sandbox = descriptor_budget(20000, 2);
  CHECK(sandbox.idle_pipes_per_thread == 64);
  CHECK(sandbox.max_connections == (20000 - 64 - 2 * 64 * 2) / 2);
  const DescriptorBudget unit = descriptor_budget(1048576, 8);
  CHECK(unit.max_connections * 2 + 64 + 8 * 64 * 2 <= 1048576);
  // Nothing to spare: still one, so the process says why it refuses.
  CHECK(descriptor_budget(10, 2).max_connections == 1);
}

TEST_CASE("behind a balancer: the shared limits at accept, the client's after its header",
          "[proxy][limits]") {
  LimitOptions options;
  options.max_connections = 3;
  options.max_connections_per_client = 1;
  options.max_pending_heads_per_client = 1;
  options.max_rate_per_client = 10;
  ConnectionLimits limits(options);
  // The balancer's connections count only in the total: its address is
  // nobody's, and carries many clients.
  CHECK(limits.admit_shared(false));
  CHECK(limits.admit_shared(false));
  CHECK(limits.open() == 2);
  // Then each header names a client, who is limited as if it had connected.
  CHECK(limits.admit_client(ip("10.0.8.1"), t0));
  CHECK(limits.admit_client(ip("10.0.8.1"), t0).refusal == Reason::ClientPendingHeadsLimit);
  CHECK(limits.admit_client(ip("10.0.8.2"), t0));
  // A direct client of the same address is the same client.
  CHECK(limits.admit(ip("10.0.8.2"), false, t0).refusal == Reason::ClientPendingHeadsLimit);
  CHECK(limits.open() == 2);
  limits.handshake_done(ip("10.0.8.1"));
  CHECK(limits.admit_client(ip("10.0.8.1"), t0).refusal == Reason::ClientConnectionLimit);
  // The shared limits still bound the balancer.
  CHECK(limits.admit_shared(false));
  CHECK(limits.admit_shared(false).refusal == Reason::ConnectionLimit);
  CHECK(limits.admit_shared(true).refusal == Reason::PendingHeadsLimit);
  limits.release_client(ip("10.0.8.1"), false);
  limits.release_client(ip("10.0.8.2"), true);
  for (int i = 0; i < 3; ++i)
    limits.release_shared();
  CHECK(limits.open() == 0);
  CHECK(limits.admit(ip("10.0.8.1"), false, t0 + std::chrono::seconds(1)));
}

TEST_CASE("an IPv6 client rotating through its /64 is one client", "[proxy][limits]") {
  // Issue 19: one host got 40/40 past a 5/s rate and held 40 pending heads
  // past a cap of 16, each connection from another address of its /64.
  LimitOptions options;
  options.max_rate_per_client = 5;
  options.max_pending_heads_per_client = 16;
  ConnectionLimits limits(options);
  int admitted = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string address = "2001:db8:0:7::" + std::to_string(i + 1);
    if (limits.admit(ip(address.c_str()), false, t0)) ++admitted;
  }
  CHECK(admitted == 5);

  options.max_rate_per_client = 0;
  ConnectionLimits pending(options);
  admitted = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string address = "2001:db8:0:7:" + std::to_string(i + 1) + "::1";
    if (pending.admit(ip(address.c_str()), false, t0)) ++admitted;
  }
  CHECK(admitted == 16);
  // Another /64 is another client.
  CHECK(pending.admit(ip("2001:db8:0:8::1"), false, t0));
  // The prefix is a setting: /128 makes every address a client.
  options.prefixes.v6 = 128;
  ConnectionLimits per_address(options);
  admitted = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string address = "2001:db8:0:7::" + std::to_string(i + 1);
    if (per_address.admit(ip(address.c_str()), false, t0)) ++admitted;
  }
  CHECK(admitted == 40);
}

TEST_CASE("IPv4 clients can be grouped by prefix too", "[proxy][limits]") {
  LimitOptions options;
  options.max_pending_heads_per_client = 2;
  options.prefixes.v4 = 24;
  ConnectionLimits limits(options);
  CHECK(limits.admit(ip("192.0.2.1"), false, t0));
  CHECK(limits.admit(ip("192.0.2.2"), false, t0));
  CHECK_FALSE(limits.admit(ip("192.0.2.3"), false, t0));
  // A v4-mapped address is the same client as its IPv4 form.
  CHECK_FALSE(limits.admit(ip("::ffff:192.0.2.4"), false, t0));
  CHECK(limits.admit(ip("192.0.3.1"), false, t0));
}
