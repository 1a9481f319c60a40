// Probing destinations the way the proxy takes them (DESIGN.md, "Probing the
// path"): the proxy's own upstream stage (resolve through its resolver and
// DNS cache, vet, dial directly or through the rule's parent proxy), then on
// a TLS port a handshake with the name as SNI, verifying the chain and the
// name, then close. Nothing is sent beyond the handshake.
//
// Bounded: at most `concurrency` destinations at once, each step within
// `step_timeout` (the resolver's and dialer's own timeouts are set to it by
// the caller), and the whole run within `time_limit`; when that passes,
// what is in flight is ended (a timeout) and what has not started is not
// probed. Runs on the caller's (single-threaded) io_context.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/probe/result.hpp>
#include <chokepoint/proxy/options.hpp>

namespace chokepoint::probe {

struct ProbeOptions {
  std::chrono::milliseconds step_timeout{5'000};
  std::chrono::milliseconds time_limit{60'000};
  std::size_t concurrency = 16;
};

// A TLS client context that verifies peers against the system store, or
// against `ca_file` when it is not empty; nullopt with `error` set when the
// CA cannot be loaded.
std::optional<boost::asio::ssl::context> client_tls_context(const std::string& ca_file,
                                                            std::string& error);

struct ProbeRun {
  std::vector<Result> results;  // in the order of the targets
  bool out_of_time = false;
};

// Probes every target (those marked not_probed pass through as they are).
asio::awaitable<ProbeRun> probe_all(net::Dialer& dialer, const proxy::ProxyOptions& options,
                                    const policy::Snapshot& snapshot,
                                    const policy::ClientIdentity& client,
                                    boost::asio::ssl::context& tls, std::vector<Target> targets,
                                    ProbeOptions probe_options);

}  // namespace chokepoint::probe
