// The upstream stage (src/proxy/upstream.hpp): direct, or through a parent
// proxy, with every refusal and failure as a value the session records.
#include "upstream.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "session_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::proxy;
using namespace std::chrono_literals;
using audit::Reason;

namespace {

// Dials `host`:`port` as a tunnel for the default role, with `parent`.
Dialled dial(test::SessionFixture& f, const std::string& host, std::uint16_t port,
             const UpstreamProxy* parent = nullptr, const tcp::endpoint* original = nullptr,
             Cancellation* cancellation = nullptr) {
  const Host target = test::host_of(host);
  const policy::ClientIdentity identity = f.snapshot->identify(nullptr, "");
  const UpstreamRequest request{target, port, *f.snapshot, identity, parent, original, true};
  std::optional<Dialled> out;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        out = co_await connect_upstream(f.dialer, f.options, request,
                                        Requester{"client", cancellation});
      },
      asio::detached);
  f.io.restart();
  f.io.run();
  REQUIRE(out);
  return std::move(*out);
}

// A parent that reads the CONNECT head and says `answer` (nothing: silence).
struct Parent {
  Parent(asio::io_context& io, std::string answer)
      : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), socket(io) {
    acceptor.async_accept(socket, [this, answer](const error_code& ec) {
      if (ec) return;
      asio::async_read_until(socket, asio::dynamic_buffer(head), "\r\n\r\n",
                             [this, answer](const error_code& read_ec, std::size_t) {
                               if (read_ec || answer.empty()) return;
                               said = answer;
                               asio::async_write(socket, asio::buffer(said),
                                                 [](const error_code&, std::size_t) {});
                             });
    });
  }
  UpstreamProxy url() const {
    return *UpstreamProxy::parse("http://127.0.0.1:" +
                                 std::to_string(acceptor.local_endpoint().port()));
  }
  tcp::acceptor acceptor;
  tcp::socket socket;
  std::string head;
  std::string said;
};

const std::string kFiles =
    "version: 1\nrules:\n  - {id: files, ports: [443], destinations: [files.example]}\n";

}  // namespace

TEST_CASE("direct: special addresses are refused unless a CIDR rule allows them",
          "[proxy][upstream]") {
  test::SessionFixture f(
      "version: 1\nrules:\n  - {id: any, ports: [443], destinations: "
      "[10.0.0.0/8]}\n");
  const Dialled refused = dial(f, "127.0.0.1", 443);
  CHECK(refused.failure == Reason::ForbiddenAddress);
  CHECK(refused.detail.find("127.0.0.1 (loopback)") != std::string::npos);
  CHECK_FALSE(refused.socket);
  CHECK(refused.connect_ms == -1);  // nothing was dialed
}

TEST_CASE("direct: require-match refuses a name that does not resolve to where the client went",
          "[proxy][upstream]") {
  ProxyOptions options;
  options.connect_to.push_back(*ConnectTo::parse("files.example:443:127.0.0.1:9"));
  test::SessionFixture f(kFiles, options);
  const tcp::endpoint original(asio::ip::make_address("192.0.2.7"), 443);
  const Dialled dialled = dial(f, "files.example", 443, nullptr, &original);
  CHECK(dialled.failure == Reason::OriginalDestinationMismatch);
  CHECK(dialled.detail.find("192.0.2.7:443") != std::string::npos);
}

TEST_CASE("through a parent: what it answers, and what it does not", "[proxy][upstream]") {
  SECTION("200: the tunnel, with what came right behind the answer") {
    test::SessionFixture f(kFiles);
    Parent parent(f.io, "HTTP/1.1 200 Connection established\r\nVia: 1.1 corp\r\n\r\nhello");
    const UpstreamProxy url = parent.url();
    const Dialled d = dial(f, "files.example", 443, &url);
    CHECK(d.failure == Reason::None);
    CHECK(d.socket);
    CHECK(parent.head.rfind("CONNECT files.example:443 HTTP/1.1\r\nHost: files.example:443\r\n",
                            0) == 0);
    CHECK(d.upstream_proxy_status == 200);
    CHECK(d.early == "hello");
    CHECK(d.upstream_proxy == url.to_string());
  }
  SECTION("a refusal") {
    test::SessionFixture f(kFiles);
    Parent parent(f.io, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    const UpstreamProxy url = parent.url();
    const Dialled d = dial(f, "files.example", 443, &url);
    CHECK(d.failure == Reason::UpstreamProxyRefused);
    CHECK(d.upstream_proxy_status == 403);
  }
  SECTION("not HTTP") {
    test::SessionFixture f(kFiles);
    Parent parent(f.io, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    const UpstreamProxy url = parent.url();
    CHECK(dial(f, "files.example", 443, &url).failure == Reason::UpstreamProxyFailed);
  }
  SECTION("silence: the connect timeout") {
    ProxyOptions options;
    options.connect_timeout = 200ms;
    test::SessionFixture f(kFiles, options);
    Parent parent(f.io, "");
    const UpstreamProxy url = parent.url();
    const Dialled d = dial(f, "files.example", 443, &url);
    CHECK(d.failure == Reason::ConnectTimeout);
    CHECK(d.detail.find("did not answer the CONNECT") != std::string::npos);
  }
  SECTION("the proxy stopping while the parent thinks") {
    test::SessionFixture f(kFiles);
    Parent parent(f.io, "");
    const UpstreamProxy url = parent.url();
    Cancellation stop;
    asio::steady_timer later(f.io, 50ms);
    later.async_wait([&](const error_code&) { stop.request(); });
    const auto started = std::chrono::steady_clock::now();
    const Dialled d = dial(f, "files.example", 443, &url, nullptr, &stop);
    CHECK(d.failure == Reason::Shutdown);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
  }
  SECTION("nobody listening") {
    test::SessionFixture f(kFiles);
    const UpstreamProxy url = *UpstreamProxy::parse("http://127.0.0.1:9");
    const Dialled d = dial(f, "files.example", 443, &url);
    CHECK(d.failure == Reason::ConnectRefused);
    CHECK(d.detail.find("the upstream proxy 127.0.0.1:9") != std::string::npos);
  }
  SECTION("an IP literal is vetted before the parent is asked") {
    test::SessionFixture f(kFiles);
    const UpstreamProxy url = *UpstreamProxy::parse("http://127.0.0.1:9");
    const Dialled d = dial(f, "169.254.169.254", 443, &url);
    CHECK(d.failure == Reason::ForbiddenAddress);
    CHECK(d.connect_ms == -1);  // the parent was not even dialed
  }
}
