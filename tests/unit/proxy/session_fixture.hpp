// A Session on a loopback socket pair, with the services a worker would
// hand it and a destination source the test scripts: the whole data flow of
// one connection, asserted on the records it writes (tests/unit/proxy/
// session_test.cpp). Destinations are loopback servers the test runs.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/read.hpp>

#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/net/options.hpp>
#include <chokepoint/net/resolver.hpp>
#include <chokepoint/proxy/connection_slot.hpp>
#include <chokepoint/proxy/limits.hpp>
#include <chokepoint/proxy/upstream_pool.hpp>
#include <chokepoint/proxy/worker.hpp>
#include <chokepoint/relay/pipe_pool.hpp>

#include "../policy/policy_fixture.hpp"
#include "destination_source.hpp"
#include "session.hpp"
#include "stage_fixture.hpp"

namespace chokepoint::test {

// Hands the session the exchanges a test wrote, one per next(), then Gone.
class ScriptedSource final : public proxy::DestinationSource {
 public:
  explicit ScriptedSource(std::deque<proxy::Learned> script) : script_(std::move(script)) {}
  audit::Mode mode() const override { return audit::Mode::Connect; }
  proxy::Language early_language() const override { return proxy::Language::Http; }
  asio::awaitable<proxy::Learned> next(proxy::ClientConnection&, audit::Record& record,
                                       Requester) override {
    if (script_.empty()) co_return proxy::Learned{};
    proxy::Learned l = std::move(script_.front());
    script_.pop_front();
    record.host = l.host.name;
    record.port = l.port;
    co_return l;
  }

 private:
  std::deque<proxy::Learned> script_;
};

// A loopback server: accepts `connections` connections and runs `serve`
// on each, then stops listening.
struct Server {
  using Serve = std::function<asio::awaitable<void>(tcp::socket)>;
  Server(asio::io_context& io, Serve serve, int connections = 1)
      : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
        port_(acceptor.local_endpoint().port()) {
    asio::co_spawn(
        io,
        [this, serve, connections]() -> asio::awaitable<void> {
          for (int i = 0; i < connections; ++i) {
            error_code ec;
            tcp::socket socket = co_await acceptor.async_accept(await_into(ec));
            if (ec) co_return;
            ++accepted;
            asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
          }
          acceptor.close();
        },
        asio::detached);
  }
  std::uint16_t port() const { return port_; }
  tcp::acceptor acceptor;
  std::uint16_t port_;
  int accepted = 0;
};

// Everything the client gets until the proxy closes.
inline asio::awaitable<std::string> read_all(tcp::socket& socket) {
  std::string in;
  error_code ec;
  co_await asio::async_read(socket, asio::dynamic_buffer(in), await_into(ec));
  co_return in;
}

// A CONNECT-like tunnel to `host`:`port`, answered in HTTP.
inline proxy::Learned tunnel_to(const std::string& host, std::uint16_t port) {
  proxy::Learned l = proxy::Learned::destination();
  l.host = host_of(host);
  l.port = port;
  l.language = proxy::Language::Http;
  l.tunnel = true;
  return l;
}

struct SessionFixture : StageFixture {
  explicit SessionFixture(const std::string& policy_yaml = kNothingAllowed,
                          proxy::ProxyOptions proxy_options = {})
      : StageFixture(with_silent_dns(std::move(proxy_options))),
        resolver(io, dns, net::resolver_options(options)),
        dialer(resolver, options.connect_to, net::dial_options(options)),
        snapshot(snapshot_from(policy_yaml)) {}

  // Starts a session for the client end of a new loopback pair; the test
  // talks on `client`.
  std::shared_ptr<proxy::Session> start(std::deque<proxy::Learned> script) {
    return start(std::make_unique<ScriptedSource>(std::move(script)));
  }
  std::shared_ptr<proxy::Session> start(std::unique_ptr<proxy::DestinationSource> source) {
    SocketPair pair(io);
    client = std::move(pair.far);
    const tcp::endpoint peer = pair.near.remote_endpoint();
    const tcp::endpoint local = pair.near.local_endpoint();
    proxy::ConnectionSlot slot(live, limits, options, net::to_ip(peer.address()));
    auto session = std::make_shared<proxy::Session>(
        services, std::move(source), std::move(pair.near), peer, local, snapshot, std::move(slot));
    asio::co_spawn(
        io, [session] { return session->run(); }, asio::detached);
    return session;
  }

  static constexpr const char* kNothingAllowed =
      "version: 1\nrules:\n  - {id: nothing, ports: [443], destinations: [nothing.invalid]}\n";

  // No test resolves through the machine's resolver: names go to a port on
  // loopback where nothing listens (tests that need a name use a DNS
  // server of their own, or --connect-to).
  static proxy::ProxyOptions with_silent_dns(proxy::ProxyOptions o) {
    if (o.dns_servers.empty()) o.dns_servers.push_back(*Endpoint::parse("127.0.0.1:9"));
    return o;
  }

  net::DnsCache dns{net::dns_cache_options(config::Settings{})};
  net::Resolver resolver;
  net::Dialer dialer;
  proxy::ConnectionLimits limits{proxy::LimitOptions{}};
  relay::PipePool pipes{std::size_t{1} << 16, 4, &limits.buffers()};
  proxy::UpstreamPool upstreams{std::chrono::seconds(30)};
  proxy::LiveConnections live;
  std::shared_ptr<const inventory::Inventory> inventory;
  proxy::ConnectionServices services{options, 0,     dialer,    queue,   limits,
                                     nullptr, pipes, upstreams, metrics, inventory};
  std::shared_ptr<const policy::Snapshot> snapshot;
  tcp::socket client{io};
};

}  // namespace chokepoint::test
