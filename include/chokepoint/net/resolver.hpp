// Name resolution on the I/O threads: one Resolver per
// io_context, all of them sharing one DnsCache.
//
// A lookup answers from /etc/hosts (when the system's lookup order names
// "files", as glibc's nsswitch default does), else from the shared cache,
// else by joining the queries another lookup of any thread already sent for
// the name, else by sending an A and an AAAA question together through
// c-ares on this thread's io_context: no blocking call, no thread per
// lookup. Servers come from /etc/resolv.conf (or --dns-server), and so do
// glibc's `options timeout:N attempts:N`; answers come over UDP, over TCP
// when truncated (c-ares). Search domains are not applied: the name that
// was decided on is the name resolved.
//
// A lookup waits at most ResolverOptions::timeout. A silent server delays
// only the names waiting on it. A lookup whose deadline has come leaves its
// flight; the flight itself is abandoned, not cancelled (c-ares 1.18 can
// only cancel every query of a channel), but its retry schedule is fitted
// into the same timeout, so it ends on its own by then, holding meanwhile
// one of the cache's max_in_flight slots and a few hundred bytes, no socket
// or thread of its own; an answer arriving late still fills the cache.
//
// The resolver never vets: what it returns is what DNS (or the hosts file)
// said, and the caller (Dialer::plan) vets every address on every use.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <chokepoint/core/asio.hpp>
#include <chokepoint/core/cancellation.hpp>
#include <chokepoint/core/endpoint.hpp>
#include <chokepoint/core/ip.hpp>
#include <chokepoint/net/dns_cache.hpp>
#include <chokepoint/net/hosts_file.hpp>

namespace chokepoint::net {

struct ResolveResult {
  // What DNS said (or Timeout, or Refused for a lookup not asked): the one
  // status every layer above maps from (Dialer::plan to DialError).
  DnsStatus status = DnsStatus::Addresses;
  std::string detail;                       // why, on failure
  std::shared_ptr<const DnsAnswer> answer;  // the addresses, when status is Addresses
  DnsServed served = DnsServed::Miss;       // how the lookup was served
  std::chrono::milliseconds elapsed{0};     // time spent; 0 on a hit

  // A and AAAA answers, in the server's order (empty on failure).
  std::span<const IpAddress> addresses() const {
    return answer ? std::span<const IpAddress>(answer->addresses) : std::span<const IpAddress>();
  }
};

// `servers` and `timeout` are settings: net::resolver_options() (net/options.hpp)
// fills them from the settings table, defaults included.
struct ResolverOptions {
  std::vector<Endpoint> servers;        // --dns-server; empty: /etc/resolv.conf's
  std::chrono::milliseconds timeout{};  // --dns-timeout: the longest a lookup waits
  std::string resolv_conf = "/etc/resolv.conf";
  std::string hosts_file = "/etc/hosts";
};

class AresChannel;

class Resolver {
 public:
  // Start-up only: throws std::runtime_error when c-ares cannot be set up.
  // `io` is the thread's io_context; resolve() must run on it. `cache`
  // outlives the resolver.
  Resolver(asio::io_context& io, DnsCache& cache, ResolverOptions options);
  // Before its io_context, with that no longer running; flights this thread
  // was sending end unanswered and their waiters (of any thread) are
  // dropped, so destroy resolvers only once every I/O thread has stopped.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The addresses of `name` (a host name, not an IP literal), with how the
  // lookup was served and how long it took; completes on the caller's
  // executor within options().timeout, or as soon as the requester's
  // cancellation is requested (then as a timeout). A flight it starts counts
  // against the requester's share (DnsCacheOptions::max_in_flight_per_client).
  asio::awaitable<ResolveResult> resolve(std::string name, Requester requester = {});

  DnsCache& cache() { return cache_; }
  const ResolverOptions& options() const { return options_; }

 private:
  struct Flight;
  static void on_a(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_aaaa(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_answer(Flight& flight, int type, int status, const unsigned char* abuf, int alen);
  void send(const std::string& name);
  void finish(Flight& flight);

  DnsCache& cache_;
  ResolverOptions options_;
  HostsFile hosts_;
  bool hosts_first_ = true;
  bool destroying_ = false;
  std::unique_ptr<AresChannel> channel_;  // last: destroyed first, while the rest still stands
};

}  // namespace chokepoint::net
