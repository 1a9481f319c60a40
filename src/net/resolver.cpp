#include <ares.h>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <chokepoint/net/dns_message.hpp>
#include <chokepoint/net/resolv_conf.hpp>
#include <chokepoint/net/resolver.hpp>

#include "ares_channel.hpp"

namespace chokepoint::net {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kTypeA = 1;      // RFC 1035
constexpr int kTypeAaaa = 28;  // RFC 3596
// Addresses kept per family and answer; the rest of a longer answer is dropped.
constexpr int kMaxAddresses = 32;

// One family's answer.
struct Family {
  bool done = false;
  DnsStatus status = DnsStatus::Failed;
  std::vector<IpAddress> addresses;
  std::optional<std::uint32_t> ttl;  // addresses: the smallest; negative: RFC 2308
  std::string detail;
};

std::string file_text(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  if (file) text << file.rdbuf();
  return text.str();
}

void keep_min(std::optional<std::uint32_t>& into, std::optional<std::uint32_t> value) {
  if (value && (!into || *value < *into)) into = value;
}

Family read_family(int type, int status, const unsigned char* abuf, int alen) {
  Family f;
  f.done = true;
  const std::span<const std::uint8_t> message(abuf, abuf ? static_cast<std::size_t>(alen) : 0);
  if (status == ARES_SUCCESS) {
    int count = kMaxAddresses;
    if (type == kTypeA) {
      ares_addrttl found[kMaxAddresses];
      status = ares_parse_a_reply(abuf, alen, nullptr, found, &count);
      for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
        f.addresses.push_back(IpAddress::v4(ntohl(found[i].ipaddr.s_addr)));
        keep_min(f.ttl, static_cast<std::uint32_t>(std::max(0, found[i].ttl)));
      }
    } else {
      ares_addr6ttl found[kMaxAddresses];
      status = ares_parse_aaaa_reply(abuf, alen, nullptr, found, &count);
      for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
        std::array<std::uint8_t, 16> bytes{};
        std::memcpy(bytes.data(), &found[i].ip6addr, 16);
        f.addresses.push_back(IpAddress::v6(bytes));
        keep_min(f.ttl, static_cast<std::uint32_t>(std::max(0, found[i].ttl)));
      }
    }
    if (status == ARES_SUCCESS && !f.addresses.empty()) {
      f.status = DnsStatus::Addresses;
      return f;
    }
    if (status == ARES_SUCCESS) status = ARES_ENODATA;  // a CNAME chain that ends nowhere
  }
  switch (status) {
    case ARES_ENODATA:
      f.status = DnsStatus::NoData;
      f.ttl = negative_ttl(message);
      f.detail = "no A or AAAA record";
      break;
    case ARES_ENOTFOUND:
      f.status = DnsStatus::NotFound;
      f.ttl = negative_ttl(message);
      f.detail = "no such name (NXDOMAIN)";
      break;
    case ARES_ETIMEOUT:
      f.status = DnsStatus::Timeout;
      f.detail = "no answer from the DNS servers";
      break;
    case ARES_ECONNREFUSED:
      // c-ares 1.18 also ends here when every server answered SERVFAIL,
      // REFUSED or NOTIMP: it retries those and keeps no other status.
      f.status = DnsStatus::Failed;
      f.detail = "no usable answer (SERVFAIL, REFUSED or unreachable server)";
      break;
    default:
      f.status = DnsStatus::Failed;
      f.detail = ares_strerror(status);
      break;
  }
  return f;
}

// A and AAAA as one answer about the name.
DnsResolution combine(Family& a, Family& aaaa) {
  DnsResolution r;
  for (Family* f : {&a, &aaaa}) {
    if (f->status != DnsStatus::Addresses) continue;
    r.addresses.insert(r.addresses.end(), f->addresses.begin(), f->addresses.end());
    keep_min(r.ttl, f->ttl);
  }
  if (!r.addresses.empty()) {
    // One family failing (a server that drops AAAA questions) does not
    // spoil the other's answer; it is kept for its own TTL.
    r.status = DnsStatus::Addresses;
    return r;
  }
  const auto negative = [&](DnsStatus status) {
    r.status = status;
    for (Family* f : {&a, &aaaa}) {
      if (f->status == DnsStatus::NotFound || f->status == DnsStatus::NoData)
        keep_min(r.ttl, f->ttl);
    }
    r.detail = status == DnsStatus::NotFound
                   ? a.status == DnsStatus::NotFound ? a.detail : aaaa.detail
                   : a.detail;
    return r;
  };
  // NXDOMAIN is about the name, whatever the other question met (RFC 8020).
  if (a.status == DnsStatus::NotFound || aaaa.status == DnsStatus::NotFound)
    return negative(DnsStatus::NotFound);
  if (a.status == DnsStatus::NoData && aaaa.status == DnsStatus::NoData)
    return negative(DnsStatus::NoData);
  // A definite failure (an unreachable server, SERVFAIL) says more than the
  // other question's silence: the server's ICMP error reaches only one of
  // the two queries sharing its socket, the other one times out.
  const bool failed = a.status == DnsStatus::Failed || aaaa.status == DnsStatus::Failed;
  r.status = failed ? DnsStatus::Failed : DnsStatus::Timeout;
  r.detail = (a.status == r.status ? a : aaaa).detail;
  return r;
}

ResolveResult result_of(std::shared_ptr<const DnsAnswer> answer, DnsServed served,
                        milliseconds elapsed) {
  ResolveResult result;
  result.served = served;
  result.elapsed = served == DnsServed::Hit ? milliseconds(0) : elapsed;
  result.status = answer->status;
  result.detail = answer->detail;
  result.answer = std::move(answer);
  return result;
}

// What a lookup waits on; lives on the waiting coroutine's thread.
struct Waiting {
  explicit Waiting(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  std::optional<DnsOutcome> outcome;
};

// The cache's handle on a waiting lookup: it holds no timer (the flight may
// end on another thread, even after this thread's io_context is gone), only
// the executor to post the outcome to and a weak reference to the waiting.
class PostingWaiter final : public DnsWaiter {
 public:
  PostingWaiter(asio::any_io_executor executor, std::weak_ptr<Waiting> waiting)
      : executor_(std::move(executor)), waiting_(std::move(waiting)) {}
  void deliver(const DnsOutcome& outcome) override {
    asio::post(executor_, [waiting = waiting_, outcome] {
      if (auto w = waiting.lock()) {
        w->outcome = outcome;
        w->timer.cancel();
      }
    });
  }

 private:
  asio::any_io_executor executor_;
  std::weak_ptr<Waiting> waiting_;
};

}  // namespace

struct Resolver::Flight {
  Resolver* resolver;
  std::string name;
  Clock::time_point started;
  Family a;
  Family aaaa;
  bool abandoned = false;  // the channel is being destroyed
};

Resolver::Resolver(asio::io_context& io, DnsCache& cache, ResolverOptions options)
    : cache_(cache), options_(std::move(options)), hosts_(options_.hosts_file) {
  const char* env = std::getenv("RES_OPTIONS");
  const ResolvTiming timing = parse_resolv_timing(file_text(options_.resolv_conf), env ? env : "");
  AresConfig config;
  config.servers = options_.servers;
  config.resolv_conf = options_.resolv_conf;
  config.try_timeout = timing.timeout;
  config.tries = timing.attempts;
  // The server count decides the schedule; only the channel knows it (it
  // read resolv.conf), so a first channel asks and a second one is kept.
  const int servers = config.servers.empty() ? AresChannel(io, config).server_count()
                                             : static_cast<int>(config.servers.size());
  channel_ =
      std::make_unique<AresChannel>(io, fit_retry_schedule(config, servers, options_.timeout));
  // glibc's nsswitch default, "files dns", read by c-ares as "fb".
  hosts_first_ = channel_->lookups().find('f') != std::string::npos;
}

Resolver::~Resolver() {
  destroying_ = true;
  channel_.reset();
}

void Resolver::send(const std::string& name) {
  auto* flight = new Flight{this, name, Clock::now(), {}, {}, false};
  cache_.count_queries(2);
  // Both questions at once; the flight ends when both have their answer.
  // The callback may run before ares_query returns (a local failure): the
  // flight must not be touched after the second call.
  channel_->query(name, kTypeA, &Resolver::on_a, flight);
  channel_->query(name, kTypeAaaa, &Resolver::on_aaaa, flight);
}

void Resolver::on_a(void* arg, int status, int, unsigned char* abuf, int alen) {
  on_answer(*static_cast<Flight*>(arg), kTypeA, status, abuf, alen);
}

void Resolver::on_aaaa(void* arg, int status, int, unsigned char* abuf, int alen) {
  on_answer(*static_cast<Flight*>(arg), kTypeAaaa, status, abuf, alen);
}

void Resolver::on_answer(Flight& flight, int type, int status, const unsigned char* abuf,
                         int alen) {
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) flight.abandoned = true;
  (type == kTypeA ? flight.a : flight.aaaa) = read_family(type, status, abuf, alen);
  if (flight.a.done && flight.aaaa.done) flight.resolver->finish(flight);
}

void Resolver::finish(Flight& flight) {
  std::unique_ptr<Flight> owned(&flight);
  if (flight.abandoned || destroying_) {
    cache_.abandon(flight.name);
    return;
  }
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - flight.started);
  cache_.complete(flight.name, combine(flight.a, flight.aaaa), took);
}

asio::awaitable<ResolveResult> Resolver::resolve(std::string name, Requester requester) {
  const auto started = Clock::now();
  if (hosts_first_) {
    const auto listed = hosts_.find(name, started);
    if (!listed.empty()) {
      auto answer = std::make_shared<const DnsAnswer>(
          DnsAnswer{DnsStatus::Addresses, {listed.begin(), listed.end()}, {}});
      co_return result_of(std::move(answer), DnsServed::Hit, milliseconds(0));
    }
  }
  if (auto found = cache_.find(name)) {
    if (found->refresh) send(name);
    co_return result_of(std::move(found->answer), found->served, milliseconds(0));
  }
  const auto executor = co_await asio::this_coro::executor;
  auto waiting = std::make_shared<Waiting>(executor);
  auto waiter = std::make_shared<PostingWaiter>(executor, waiting);
  DnsCache::Joined joined = cache_.wait(name, waiter, requester.network);
  const auto elapsed = [&] {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  };
  switch (joined.kind) {
    case DnsCache::Joined::Kind::Answered:
      co_return result_of(std::move(joined.found->answer), joined.found->served, elapsed());
    case DnsCache::Joined::Kind::Refused: {
      if (joined.found)
        co_return result_of(std::move(joined.found->answer), DnsServed::Stale, elapsed());
      const std::string why =
          joined.client_share ? "resolver busy for this client: " +
                                    std::to_string(cache_.options().max_in_flight_per_client) +
                                    " of its names are being resolved"
                              : "resolver busy: " + std::to_string(cache_.options().max_in_flight) +
                                    " names are being resolved";
      auto busy = std::make_shared<const DnsAnswer>(DnsAnswer{DnsStatus::Refused, {}, why});
      co_return result_of(std::move(busy), DnsServed::Miss, elapsed());
    }
    case DnsCache::Joined::Kind::Lead:
      send(name);
      break;
    case DnsCache::Joined::Kind::Waiting:
      break;
  }
  if (!(requester.cancellation && requester.cancellation->requested())) {
    // The connection being torn down ends the wait, as the deadline does;
    // the flight goes on for whoever else waits for it.
    Cancellation::Registration ends_wait(requester.cancellation,
                                         [w = waiting.get()] { w->timer.cancel(); });
    waiting->timer.expires_after(options_.timeout);
    error_code ignored;
    co_await waiting->timer.async_wait(await_into(ignored));
  }
  if (waiting->outcome)
    co_return result_of(std::move(waiting->outcome->answer), waiting->outcome->served, elapsed());
  if (auto stale = cache_.give_up(name, waiter.get()))
    co_return result_of(std::move(stale), DnsServed::Stale, elapsed());
  const bool cancelled = requester.cancellation && requester.cancellation->requested();
  auto timed_out = std::make_shared<const DnsAnswer>(DnsAnswer{
      DnsStatus::Timeout,
      {},
      cancelled ? std::string("the lookup was abandoned")
                : "no answer within " + std::to_string(options_.timeout.count()) + " ms"});
  const bool led = joined.kind == DnsCache::Joined::Kind::Lead;
  co_return result_of(std::move(timed_out), led ? DnsServed::Miss : DnsServed::Coalesced,
                      elapsed());
}

}  // namespace chokepoint::net
