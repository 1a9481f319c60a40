#include "session_common.hpp"

#include <chokepoint/core/json.hpp>

namespace chokepoint::proxy {

void record_decision(audit::Record& record, const policy::Decision& decision,
                     const policy::Snapshot& snapshot, const Host& host, std::uint16_t port,
                     const policy::ClientIdentity& identity) {
  record.decision = std::string(policy::to_string(decision.action));
  record.rule = std::string(decision.rule_id());
  if (decision.match.rule) record.service = decision.match.rule->service;
  record.reason = std::string(policy::to_string(decision.reason));
  record.enforced = decision.enforced;
  if (!decision.let_out() || !decision.enforced)
    record.detail = snapshot.describe(decision, host, port, identity);
}

namespace {

// What a tunnel's end needs: its record to finish, and its slot to give back.
struct RelayContext {
  Worker* worker;
  audit::Record record;
  Clock::time_point started;
  IpAddress client_ip;

  void describe(std::string& out) const {
    JsonObject json(out);
    json.field("id", record.id)
        .field("client", record.client)
        .string_or_null("user", record.user)
        .string_or_null("role", record.role)
        .field("mode", audit::to_string(record.mode))
        .field("host", record.host)
        .field("port", unsigned{record.port})
        .string_or_null("sni", record.sni)
        .string_or_null("upstream", record.upstream)
        .string_or_null("rule", record.rule);
    // Left open: the listing appends the live members and closes it.
  }
};

}  // namespace

void start_relay(Worker& worker, tcp::socket client, tcp::socket upstream, std::uint64_t already_up,
                 audit::Record record, Clock::time_point started, const IpAddress& client_ip,
                 const policy::Rule* rule) {
  auto context =
      std::make_shared<RelayContext>(RelayContext{&worker, std::move(record), started, client_ip});
  relay::TunnelOptions options;
  options.force_copy = worker.options().force_copy;
  options.idle_timeout =
      rule && rule->idle_timeout ? *rule->idle_timeout : worker.options().idle_timeout;
  // The done callback owns the context; the tunnel asks for its description
  // only while it is open, that is, before done runs.
  options.describe = [c = context.get()](std::string& out) { c->describe(out); };
  relay::Tunnel::start(std::move(client), std::move(upstream), worker.pipes(), worker.tunnels(),
                       options, already_up, [c = std::move(context)](const relay::TunnelResult& r) {
                         c->worker->limits().release(c->client_ip);
                         c->record.bytes_up = r.bytes_up;
                         c->record.bytes_down = r.bytes_down;
                         c->record.relay = std::string(relay::to_string(r.path));
                         c->record.end = std::string(relay::to_string(r.end));
                         if (r.error) c->record.detail = r.error.message();
                         c->worker->emit_last(std::move(c->record), audit::Event::Close,
                                              c->started);
                       });
}

}  // namespace chokepoint::proxy

namespace chokepoint::proxy {

namespace {

bool plan_contains(const net::DialPlan& plan, const tcp::endpoint& original) {
  const IpAddress wanted = net::to_ip(original.address()).unmapped();
  if (original.port() != plan.port) return false;
  for (const auto& address : plan.addresses) {
    if (address.unmapped() == wanted) return true;
  }
  return false;
}

}  // namespace

asio::awaitable<Dialled> resolve_and_connect(Worker& worker, const Host& host, std::uint16_t port,
                                             const policy::Snapshot& snapshot,
                                             const policy::ClientIdentity& identity,
                                             audit::Record& record,
                                             const tcp::endpoint* must_resolve_to,
                                             const bool& cancelled) {
  Dialled d;
  // Two pointers: small enough for std::function to hold without allocating.
  // Both outlive the call (the session awaiting it owns them).
  const net::AddressVetter vet = [s = &snapshot, id = &identity](const IpAddress& address,
                                                                 std::uint16_t to_port) {
    return s->allows_address(address, to_port, *id);
  };
  d.plan = co_await worker.dialer().plan(host, port, vet);
  record.dns_ms = d.plan.dns_ms;
  if (d.plan.dns) record.dns = std::string(net::to_string(*d.plan.dns));
  if (d.plan.error != net::DialError::None || cancelled) co_return d;
  if (must_resolve_to && !plan_contains(d.plan, *must_resolve_to)) {
    d.mismatch = true;
    co_return d;
  }
  const auto started = Clock::now();
  d.result = co_await worker.dialer().connect(d.plan);
  record.connect_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  if (d.result.error == net::DialError::None)
    record.upstream = net::format_endpoint(d.result.endpoint);
  co_return d;
}

}  // namespace chokepoint::proxy
