// Test helpers for the proxy module: a Worker on the built-in catalog whose
// audit records land in memory, and a connected pair of loopback sockets.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <chokepoint/audit/log.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/policy/loader.hpp>
#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::test {

// Keeps every record the audit thread hands it.
class MemorySink : public audit::Sink {
 public:
  void write(const std::vector<audit::Record>& records) override {
    std::lock_guard lock(mutex_);
    records_.insert(records_.end(), records.begin(), records.end());
  }
  audit::SinkStats stats() const override { return {}; }
  std::string name() const override { return "memory"; }
  std::vector<audit::Record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<audit::Record> records_;
};

struct WorkerFixture {
  explicit WorkerFixture(proxy::ProxyOptions proxy_options = {})
      : options(std::move(proxy_options)),
        limits(proxy::LimitOptions{options.max_connections, options.max_connections_per_client,
                                   options.max_pending_heads_per_client, 0, 0, false,
                                   options.client_prefixes()}),
        audit(make_audit(sink)),
        worker(0, options, dns, *audit, limits, nullptr, builtin(), "test") {}

  // Runs the worker's loop until nothing is left to do, then hands the
  // batch to the audit thread and waits for it.
  std::vector<audit::Record> records() {
    worker.io().restart();
    worker.io().run();
    audit->stop();
    return sink->records();
  }

  static std::shared_ptr<const policy::Snapshot> builtin() {
    auto loaded = policy::load_builtin_config();
    REQUIRE(loaded.ok());
    auto built = policy::Snapshot::build(std::move(loaded).value().policy);
    REQUIRE(built.ok());
    return built.value();
  }
  static std::unique_ptr<audit::AuditLog> make_audit(MemorySink*& out) {
    auto sink = std::make_unique<MemorySink>();
    out = sink.get();
    std::vector<std::unique_ptr<audit::Sink>> sinks;
    sinks.push_back(std::move(sink));
    return std::make_unique<audit::AuditLog>(audit::AuditLog::Options{1}, std::move(sinks));
  }

  proxy::ProxyOptions options;
  net::DnsCache dns{net::DnsCacheOptions{}};
  proxy::ConnectionLimits limits;
  MemorySink* sink = nullptr;
  std::unique_ptr<audit::AuditLog> audit;
  proxy::Worker worker;
};

// A connected pair on loopback: `far` for the test, `near` for the code under test.
struct SocketPair {
  explicit SocketPair(asio::io_context& io) : far(io), near(io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    far.connect(acceptor.local_endpoint());
    acceptor.accept(near);
  }
  tcp::socket far;
  tcp::socket near;
};

// Writes `bytes` to `socket` in pieces of `piece` bytes, a millisecond apart
// (so the code under test gets them in separate reads); `close` then ends
// the sending side.
inline asio::awaitable<void> send_in_pieces(tcp::socket& socket, std::string bytes,
                                            std::size_t piece, bool close) {
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    error_code ec;
    co_await asio::async_write(socket, asio::buffer(bytes.substr(at, piece)), await_into(ec));
    asio::steady_timer pause(socket.get_executor(), std::chrono::milliseconds(1));
    co_await pause.async_wait(await_into(ec));
  }
  if (close) socket.shutdown(tcp::socket::shutdown_send);
}

}  // namespace chokepoint::test
