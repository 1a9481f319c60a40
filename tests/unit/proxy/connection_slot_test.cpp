// A connection's hold on what connections share (include/chokepoint/proxy/
// connection_slot.hpp): taken at accept, given back once, whatever path the
// connection took.
#include <optional>

#include <catch2/catch.hpp>

#include <chokepoint/proxy/connection_slot.hpp>

using namespace chokepoint;
using namespace chokepoint::proxy;

namespace {

struct Owner final : LiveConnection {
  void cancel() override { ++cancelled; }
  relay::Tunnel* tunnel() override { return nullptr; }
  const audit::Record* open_record() const override { return nullptr; }
  int cancelled = 0;
};

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

}  // namespace

TEST_CASE("a slot holds its place until it goes, and says when the last one went",
          "[proxy][slot]") {
  LimitOptions limit_options;
  limit_options.max_connections = 2;
  limit_options.max_pending_heads_per_client = 5;
  ConnectionLimits limits(limit_options);
  ProxyOptions options;
  options.threads = 1;
  LiveConnections live;
  int emptied = 0;
  live.when_empty([&] { ++emptied; });
  Owner owner;
  {
    ConnectionSlot a(live, limits, options, ip("10.0.0.1"));
    ConnectionSlot b(live, limits, options, ip("10.0.0.2"));
    ConnectionSlot c(live, limits, options, ip("10.0.0.3"));
    CHECK(a.admission());
    CHECK(b.admission());
    CHECK(c.admission().refusal == audit::Reason::ConnectionLimit);
    CHECK(limits.open() == 2);
    CHECK(live.handshakes() == 2);
    a.attach(owner);
    b.attach(owner);
    c.attach(owner);
    CHECK_FALSE(live.empty());
    a.relaying();
    a.relaying();  // once only
    CHECK(live.handshakes() == 1);
    // Moved into the session: one destructor gives back, not two.
    std::optional<ConnectionSlot> moved(std::move(b));
    CHECK(limits.open() == 2);
    moved.reset();
    CHECK(limits.open() == 1);
    CHECK(live.handshakes() == 0);
    CHECK(emptied == 0);
  }
  CHECK(limits.open() == 0);
  CHECK(live.empty());
  CHECK(emptied == 1);
}

TEST_CASE("a balancer's connection counts as its client's once the header names it",
          "[proxy][slot]") {
  LimitOptions limit_options;
  limit_options.max_pending_heads_per_client = 1;
  ConnectionLimits limits(limit_options);
  ProxyOptions options;
  options.proxy_protocol_from.push_back(*Cidr::parse("192.0.2.0/24"));
  LiveConnections live;
  ConnectionSlot first(live, limits, options, ip("192.0.2.10"));
  ConnectionSlot second(live, limits, options, ip("192.0.2.10"));
  // The balancer carries many clients: its own address is nobody's.
  CHECK(first.from_balancer());
  CHECK(first.admission());
  CHECK(second.admission());
  CHECK(first.admit_client(ip("10.0.0.9")));
  CHECK(first.client() == ip("10.0.0.9"));
  CHECK(second.admit_client(ip("10.0.0.9")).refusal == audit::Reason::ClientPendingHeadsLimit);
}
