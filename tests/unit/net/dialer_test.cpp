#include <catch2/catch.hpp>

#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/options.hpp>
#include <chokepoint/net/resolver.hpp>

using namespace chokepoint;
using namespace chokepoint::net;

namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

Host host(const char* text) {
  Host h;
  REQUIRE(normalize_host(text, h) == HostError::None);
  return h;
}

template <class T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out = std::move(value);
  });
  io.run();
  io.restart();
  REQUIRE(out);
  return std::move(*out);
}

}  // namespace

TEST_CASE("Happy Eyeballs order: IPv6 first, families interleaved", "[net][dialer]") {
  const auto ordered = interleave_families(
      {ip("192.0.2.1"), ip("192.0.2.2"), ip("2001:db8::1"), ip("192.0.2.3"), ip("2001:db8::2")});
  std::vector<std::string> text;
  for (const auto& a : ordered)
    text.push_back(a.to_string());
  CHECK(text == std::vector<std::string>{"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2",
                                         "192.0.2.3"});
}

TEST_CASE("plan vets addresses unless the operator chose them", "[net][dialer]") {
  asio::io_context io;
  const config::Settings defaults;
  DnsCache cache(dns_cache_options(defaults));
  Resolver resolver(io, cache, resolver_options(defaults));
  const AddressVetter allow_ten = [](const IpAddress& a, std::uint16_t) {
    return a.to_string() == "10.0.0.5";
  };

  Dialer plain(resolver, {}, dial_options(defaults));
  DialPlan p = run(io, plain.plan(host("10.0.0.6"), 4120, allow_ten));
  CHECK(p.error == DialError::Forbidden);
  CHECK(p.detail.find("10.0.0.6 (private)") != std::string::npos);
  p = run(io, plain.plan(host("10.0.0.5"), 4120, allow_ten));
  CHECK(p.error == DialError::None);
  p = run(io, plain.plan(host("169.254.169.254"), 80, allow_ten));
  CHECK(p.detail.find("metadata") != std::string::npos);
  p = run(io, plain.plan(host("::ffff:127.0.0.1"), 80, allow_ten));
  CHECK(p.error == DialError::Forbidden);
  // localhost resolves (from /etc/hosts) to loopback only; the hosts file
  // answers like the cache: no query.
  p = run(io, plain.plan(host("localhost"), 80, allow_ten));
  CHECK(p.error == DialError::Forbidden);
  CHECK(p.dns == DnsServed::Hit);
  CHECK(p.dns_ms == 0);

  Dialer steered(resolver, {*ConnectTo::parse("ds20.icrc.trendmicro.com:443:127.0.0.1:8443")},
                 dial_options(defaults));
  p = run(io, steered.plan(host("ds20.icrc.trendmicro.com"), 443, allow_ten));
  CHECK(p.error == DialError::None);
  CHECK(p.operator_chosen);
  CHECK(p.port == 8443);
  REQUIRE(p.addresses.size() == 1);
  CHECK(p.addresses[0].to_string() == "127.0.0.1");
}

TEST_CASE("connect falls back to the next address and reports refusals", "[net][dialer]") {
  asio::io_context io;
  const config::Settings defaults;
  DnsCache cache(dns_cache_options(defaults));
  Resolver resolver(io, cache, resolver_options(defaults));
  Dialer dialer(resolver, {}, DialOptions{std::chrono::seconds(2), std::chrono::milliseconds(50)});

  tcp::acceptor listening(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto open_port = listening.local_endpoint().port();
  tcp::acceptor closed(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto closed_port = closed.local_endpoint().port();
  closed.close();

  DialPlan refused;
  refused.port = closed_port;
  refused.addresses = {ip("127.0.0.1")};
  DialResult r = run(io, dialer.connect(refused));
  CHECK(r.error == DialError::Refused);

  // ::1 refuses on this port (nothing listens there on IPv6), 127.0.0.1 answers.
  DialPlan both;
  both.port = open_port;
  both.addresses = interleave_families({ip("127.0.0.1"), ip("::1")});
  r = run(io, dialer.connect(both));
  CHECK(r.error == DialError::None);
  REQUIRE(r.socket);
  CHECK(r.endpoint.address().is_v4());
}
