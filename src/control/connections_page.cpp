#include "connections_page.hpp"

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/json.hpp>

namespace chokepoint::control {
namespace {

std::int64_t seconds(std::chrono::steady_clock::duration d) {
  return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

}  // namespace

std::string render_connections(const std::vector<proxy::Worker::OpenTunnel>& tunnels) {
  namespace key = audit::key;
  std::string out = "[";
  for (const proxy::Worker::OpenTunnel& t : tunnels) {
    if (out.size() > 1) out += ",\n";
    const audit::Record& r = t.facts;
    JsonObject json(out);
    json.field(key::id, r.id)
        .field(key::client, r.client)
        .string_or_null(key::user, r.user)
        .string_or_null(key::role, r.role)
        .field(key::mode, audit::to_string(r.mode))
        .field(key::host, r.host)
        .field(key::port, unsigned{r.port})
        .string_or_null(key::sni, r.sni)
        .string_or_null(key::upstream, r.upstream)
        .string_or_null(key::rule, r.rule)
        .field("state", t.waiting_for_client ? "waiting_for_client" : "relaying")
        .field(key::bytes_up, t.bytes_up)
        .field(key::bytes_down, t.bytes_down)
        .field("age_s", seconds(t.age))
        .field("idle_s", seconds(t.idle));
    if (!r.computer.empty()) json.field(key::computer, r.computer);
    if (r.computer_id != 0) json.field(key::computer_id, r.computer_id);
    if (!r.via.empty()) json.field(key::via, r.via);
    if (!r.upstream_proxy.empty()) json.field(key::upstream_proxy, r.upstream_proxy);
    json.close();
  }
  return out + "]\n";
}

}  // namespace chokepoint::control
