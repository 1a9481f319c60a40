#include <algorithm>
#include <cerrno>
#include <memory>
#include <span>
#include <sys/socket.h>

#include <chokepoint/core/async_event.hpp>
#include <chokepoint/net/address_class.hpp>
#include <chokepoint/net/dialer.hpp>
#include <chokepoint/net/owned_socket.hpp>

namespace chokepoint::net {
namespace {

using Clock = std::chrono::steady_clock;

// Shared by the attempts of one race; everything runs on the caller's thread.
struct Race {
  explicit Race(const asio::any_io_executor& executor) : event(executor) {}
  AsyncEvent event;                  // set whenever an attempt completes
  std::vector<tcp::socket> sockets;  // reserved up front: never moved while connecting
  int winner = -1;
  int failed = 0;
  error_code last_error;
};

DialError classify_connect_error(const error_code& ec) {
  if (ec == asio::error::connection_refused) return DialError::Refused;
  if (ec == asio::error::timed_out) return DialError::Timeout;
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) {
    return DialError::Unreachable;
  }
  return DialError::Failed;
}

// Starts a non-blocking connect; `done` gets its outcome. Asio's
// async_connect asks poll(2) whether a connect it was told had finished has
// finished, before getsockopt(2): the write event already says so, one
// system call per upstream connection (PROFILE.md).
template <class Done>
void start_connect(tcp::socket& socket, const tcp::endpoint& endpoint, Done done) {
  error_code ec = open_owned(socket, endpoint.protocol());
  if (!ec && ::connect(socket.native_handle(), endpoint.data(), endpoint.size()) != 0) {
    if (errno == EINPROGRESS) {
      socket.async_wait(tcp::socket::wait_write, [&socket, done = std::move(done)](
                                                     const error_code& wait_ec) mutable {
        if (wait_ec) return done(wait_ec);
        int err = 0;
        socklen_t length = sizeof err;
        if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &err, &length) != 0)
          err = errno;
        done(error_code(err, boost::system::system_category()));
      });
      return;
    }
    ec = error_code(errno, boost::system::system_category());
  }
  asio::post(socket.get_executor(), [done = std::move(done), ec]() mutable { done(ec); });
}

}  // namespace

std::string_view to_string(DialError error) {
  switch (error) {
    case DialError::None:
      return "ok";
    case DialError::NotFound:
      return "dns_not_found";
    case DialError::DnsTimeout:
      return "dns_timeout";
    case DialError::DnsFailed:
      return "dns_error";
    case DialError::Forbidden:
      return "forbidden_address";
    case DialError::Refused:
      return "connect_refused";
    case DialError::Timeout:
      return "connect_timeout";
    case DialError::Unreachable:
      return "unreachable";
    case DialError::Failed:
      return "connect_failed";
  }
  return "connect_failed";
}

std::vector<IpAddress> interleave_families(std::vector<IpAddress> addresses) {
  const auto is_v4 = [](const IpAddress& a) { return a.is_v4(); };
  if (std::all_of(addresses.begin(), addresses.end(), is_v4) ||
      std::none_of(addresses.begin(), addresses.end(), is_v4)) {
    return addresses;  // one family: the resolver's order stands
  }
  std::vector<IpAddress> v6;
  std::vector<IpAddress> v4;
  for (const auto& a : addresses)
    (a.is_v4() ? v4 : v6).push_back(a);
  std::vector<IpAddress> out;
  for (std::size_t i = 0; i < std::max(v6.size(), v4.size()); ++i) {
    if (i < v6.size()) out.push_back(v6[i]);
    if (i < v4.size()) out.push_back(v4[i]);
  }
  return out;
}

tcp::endpoint to_endpoint(const IpAddress& address, std::uint16_t port) {
  if (address.is_v4()) return tcp::endpoint(asio::ip::address_v4(address.v4_host_order()), port);
  asio::ip::address_v6::bytes_type bytes;
  std::copy(address.bytes().begin(), address.bytes().end(), bytes.begin());
  return tcp::endpoint(asio::ip::address_v6(bytes), port);
}

IpAddress to_ip(const asio::ip::address& address) {
  if (address.is_v4()) return IpAddress::v4(address.to_v4().to_uint());
  const auto bytes = address.to_v6().to_bytes();
  std::array<std::uint8_t, 16> raw{};
  std::copy(bytes.begin(), bytes.end(), raw.begin());
  return IpAddress::v6(raw);
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  const IpAddress ip = to_ip(endpoint.address());
  return Endpoint{ip, endpoint.port()}.to_string();
}

asio::awaitable<DialPlan> Dialer::plan(const Host& host, std::uint16_t port,
                                       const AddressVetter& vet, Requester requester) {
  DialPlan plan;
  plan.port = port;
  const std::string* name = &host.name;
  if (const ConnectTo* rule = find_connect_to(connect_to_, host.name, port)) {
    if (rule->to_port != 0) plan.port = rule->to_port;
    if (!rule->to_host.empty()) {
      // The operator chose that address: no vetting.
      name = &rule->to_host;
      plan.operator_chosen = true;
    }
  }
  co_await resolve_into(plan, *name, plan.operator_chosen ? nullptr : &vet, requester);
  co_return plan;
}

asio::awaitable<DialPlan> Dialer::plan_named(const Host& host, std::uint16_t port,
                                             Requester requester) {
  DialPlan plan;
  plan.port = port;
  plan.operator_chosen = true;
  co_await resolve_into(plan, host.name, nullptr, requester);
  co_return plan;
}

asio::awaitable<void> Dialer::resolve_into(DialPlan& plan, const std::string& name,
                                           const AddressVetter* vet, Requester requester) {
  ResolveResult resolved;  // owns what `candidates` views
  std::span<const IpAddress> candidates;
  const auto literal = IpAddress::parse(name);
  if (literal) {
    candidates = std::span<const IpAddress>(&*literal, 1);
  } else {
    resolved = co_await resolver_.resolve(name, requester);
    plan.dns_ms = resolved.elapsed.count();
    plan.dns = resolved.served;
    switch (resolved.status) {
      case DnsStatus::Addresses:
        break;
      case DnsStatus::NotFound:
      case DnsStatus::NoData:
        plan.error = DialError::NotFound;
        break;
      case DnsStatus::Timeout:
        plan.error = DialError::DnsTimeout;
        break;
      case DnsStatus::Failed:
      case DnsStatus::Refused:
        plan.error = DialError::DnsFailed;
        break;
    }
    if (plan.error != DialError::None) {
      plan.detail = name + ": " + resolved.detail;
      co_return;
    }
    candidates = resolved.addresses();
  }

  std::string refused;
  plan.addresses.reserve(candidates.size());
  for (const auto& address : candidates) {
    const AddressClass cls = classify(address);
    if (!vet || is_public(cls) || (*vet && (*vet)(address.unmapped(), plan.port))) {
      plan.addresses.push_back(address);
    } else {
      refused += (refused.empty() ? "" : ", ") + address.to_string() + " (" +
                 std::string(to_string(cls)) + ")";
    }
  }
  if (plan.addresses.empty()) {
    plan.error = DialError::Forbidden;
    plan.detail = name + " resolves only to refused addresses: " + refused;
  }
  plan.addresses = interleave_families(std::move(plan.addresses));
}

asio::awaitable<DialResult> Dialer::connect(const DialPlan& plan, Cancellation* cancellation) {
  DialResult result;
  const auto executor = co_await asio::this_coro::executor;
  auto race = std::make_shared<Race>(executor);
  const auto cancelled = [cancellation] { return cancellation && cancellation->requested(); };
  Cancellation::Registration ends_race(cancellation, [r = race.get()] { r->event.set(); });
  race->sockets.reserve(plan.addresses.size());
  const auto deadline = Clock::now() + options_.connect_timeout;
  const int total = static_cast<int>(plan.addresses.size());
  error_code ignored;

  for (int i = 0; i < total && race->winner < 0 && Clock::now() < deadline && !cancelled(); ++i) {
    auto& socket = race->sockets.emplace_back(executor);
    start_connect(socket, to_endpoint(plan.addresses[static_cast<std::size_t>(i)], plan.port),
                  [race, i](const error_code& ec) {
                    if (!ec && race->winner < 0) {
                      race->winner = i;
                    } else if (ec) {
                      ++race->failed;
                      race->last_error = ec;
                    }
                    race->event.set();
                  });
    // Give this attempt a head start before the next one, unless it fails first.
    const int launched = i + 1;
    const auto until =
        std::min(deadline, i + 1 < total ? Clock::now() + options_.attempt_delay : deadline);
    while (race->winner < 0 && race->failed < launched && !cancelled()) {
      race->event.reset();
      if (!co_await race->event.wait_until(until)) break;
    }
  }

  for (int i = 0; i < static_cast<int>(race->sockets.size()); ++i) {
    if (i != race->winner) race->sockets[static_cast<std::size_t>(i)].close(ignored);
  }
  if (race->winner >= 0 && !cancelled()) {
    auto& socket = race->sockets[static_cast<std::size_t>(race->winner)];
    result.endpoint =
        to_endpoint(plan.addresses[static_cast<std::size_t>(race->winner)], plan.port);
    // Requests and small TLS records must not wait for Nagle.
    socket.set_option(tcp::no_delay(true), ignored);
    result.socket.emplace(std::move(socket));
    co_return result;
  }
  if (cancelled()) {
    result.error = DialError::Failed;
    result.detail = "the connect was abandoned";
  } else if (race->failed < static_cast<int>(race->sockets.size()) || race->sockets.empty()) {
    result.error = DialError::Timeout;
    result.detail = "no answer within " + std::to_string(options_.connect_timeout.count()) + " ms";
  } else {
    result.error = classify_connect_error(race->last_error);
    result.detail = race->last_error.message();
  }
  co_return result;
}

}  // namespace chokepoint::net
