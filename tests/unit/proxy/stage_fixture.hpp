// Test helpers for the proxy module's stages. Each stage takes only the
// services it uses, so a test builds only those: an event loop, the
// options, and where records go (a RecordQueue into an audit log that keeps
// them in memory); and a connected pair of loopback sockets.
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
#include <chokepoint/policy/loader.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/proxy/metrics.hpp>
#include <chokepoint/proxy/options.hpp>
#include <chokepoint/proxy/record_queue.hpp>

namespace chokepoint::test {

// Keeps every record the audit thread hands it.
class MemorySink : public audit::Sink {
 public:
  void write(std::span<const std::vector<audit::Record>> batches) override {
    std::lock_guard lock(mutex_);
    for (const auto& batch : batches)
      records_.insert(records_.end(), batch.begin(), batch.end());
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

struct StageFixture {
  explicit StageFixture(proxy::ProxyOptions proxy_options = {})
      : options(std::move(proxy_options)),
        audit(make_audit(sink)),
        queue(io, *audit, metrics,
              proxy::RecordQueue::Options{0, "test", options.audit_refuse,
                                          options.client_prefixes()}) {}

  // Runs the loop until nothing is left to do, then hands the batch to the
  // audit thread and waits for it: every record written so far.
  std::vector<audit::Record> records() {
    io.restart();
    io.run();
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

  asio::io_context io;
  proxy::ProxyOptions options;
  MemorySink* sink = nullptr;
  std::unique_ptr<audit::AuditLog> audit;
  proxy::Metrics metrics;
  proxy::RecordQueue queue;
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
