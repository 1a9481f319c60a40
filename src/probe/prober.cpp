#include <list>
#include <memory>

#include <chokepoint/probe/prober.hpp>

#include "proxy/parent_proxy.hpp"
#include "proxy/upstream.hpp"
#include "tls_check.hpp"

namespace chokepoint::probe {
namespace {

namespace ssl = boost::asio::ssl;
using Clock = std::chrono::steady_clock;

std::int64_t ms_since(Clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
}

// What every probe of a run shares. One thread: the io_context's.
struct Run {
  net::Dialer& dialer;
  const proxy::ProxyOptions& options;
  const policy::Snapshot& snapshot;
  const policy::ClientIdentity& client;
  ssl::context& tls;
  ProbeOptions probe;
  std::vector<Result> results;
  std::size_t next = 0;
  bool out_of_time = false;
  // The probes in flight, so the time limit can end them.
  std::list<Cancellation*> in_flight;
};

asio::awaitable<void> probe_one(Run& run, Result& r, Cancellation& cancellation) {
  const Target& t = r.target;
  const UpstreamProxy* parent = proxy::parent_for(t.rule, run.options);
  const proxy::UpstreamRequest request{t.host, t.port, run.snapshot, run.client, parent};
  // The proxy's own upstream stage; the probe is nobody's client.
  proxy::Dialled d = co_await proxy::connect_upstream(run.dialer, run.options, request,
                                                      Requester{{}, &cancellation});
  r.dns_ms = d.dns_ms;
  r.connect_ms = d.connect_ms;
  r.upstream = d.upstream;
  r.upstream_proxy = d.upstream_proxy;
  for (const IpAddress& a : d.addresses)
    r.addresses.push_back(a.to_string());
  if (d.failure != audit::Reason::None) {
    r.outcome = dial_outcome(d.failure, parent != nullptr);
    r.detail = d.failure == audit::Reason::Shutdown ? "the probe's time limit ran out"
                                                    : std::move(d.detail);
    if (r.detail.empty()) r.detail = std::string(audit::to_string(d.failure));
    co_return;
  }
  if (!t.tls) {
    r.outcome = Outcome::Ok;
    error_code ignored;
    d.socket->close(ignored);
    co_return;
  }
  const auto started = Clock::now();
  TlsCheck check = co_await check_tls(std::move(*d.socket), run.tls, t.host, run.probe.step_timeout,
                                      &cancellation);
  r.tls_ms = ms_since(started);
  r.outcome = check.outcome;
  r.detail = std::move(check.detail);
  r.subject = std::move(check.subject);
  r.issuer = std::move(check.issuer);
  if (r.outcome == Outcome::Timeout && cancellation.requested())
    r.detail = "the probe's time limit ran out during the TLS handshake";
}

asio::awaitable<void> worker(Run& run) {
  while (run.next < run.results.size() && !run.out_of_time) {
    Result& r = run.results[run.next++];
    if (r.outcome == Outcome::NotProbed && !r.target.not_probed.empty()) continue;
    Cancellation cancellation;
    const auto it = run.in_flight.insert(run.in_flight.end(), &cancellation);
    co_await probe_one(run, r, cancellation);
    run.in_flight.erase(it);
  }
}

}  // namespace

std::optional<ssl::context> client_tls_context(const std::string& ca_file, std::string& error) {
  ssl::context context(ssl::context::tls_client);
  context.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  if (ca_file.empty()) {
    context.set_default_verify_paths(ec);
  } else {
    context.load_verify_file(ca_file, ec);
  }
  if (ec) {
    error = "cannot load the CA" + (ca_file.empty() ? "s" : " " + ca_file) + ": " + ec.message();
    return std::nullopt;
  }
  return context;
}

asio::awaitable<ProbeRun> probe_all(net::Dialer& dialer, const proxy::ProxyOptions& options,
                                    const policy::Snapshot& snapshot,
                                    const policy::ClientIdentity& client, ssl::context& tls,
                                    std::vector<Target> targets, ProbeOptions probe_options) {
  const auto executor = co_await asio::this_coro::executor;
  Run run{dialer, options, snapshot, client, tls, probe_options, {}, 0, false, {}};
  run.results.reserve(targets.size());
  for (Target& t : targets) {
    Result r;
    r.detail = t.not_probed;
    r.target = std::move(t);
    run.results.push_back(std::move(r));
  }

  asio::steady_timer limit(executor, probe_options.time_limit);
  limit.async_wait([&run](const error_code& ec) {
    if (ec) return;
    run.out_of_time = true;
    // request() unlinks nothing; copy first, a probe may end while we walk.
    const std::vector<Cancellation*> now(run.in_flight.begin(), run.in_flight.end());
    for (Cancellation* c : now)
      c->request();
  });

  const std::size_t workers = std::max<std::size_t>(1, probe_options.concurrency);
  auto remaining = std::make_shared<std::size_t>(workers);
  asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < workers; ++i) {
    asio::co_spawn(executor, worker(run), [remaining, &all_done](std::exception_ptr) {
      if (--*remaining == 0) all_done.cancel();
    });
  }
  error_code ignored;
  co_await all_done.async_wait(await_into(ignored));
  limit.cancel();
  // The limit's handler refers to `run`: let it run (cancelled) first.
  co_await asio::post(executor, asio::use_awaitable);

  ProbeRun out;
  out.out_of_time = run.out_of_time;
  for (Result& r : run.results) {
    if (r.outcome == Outcome::NotProbed && r.target.not_probed.empty())
      r.detail = "the probe's time limit ran out before it was probed";
  }
  out.results = std::move(run.results);
  co_return out;
}

}  // namespace chokepoint::probe
