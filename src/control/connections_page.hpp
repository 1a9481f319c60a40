// GET /connections: every open tunnel, as a JSON array, one object a line.
// A tunnel's facts are its open record's, under the record's own keys
// (audit/record_fields.hpp); beside them its state, bytes, age and idle time.
#pragma once

#include <string>
#include <vector>

#include <chokepoint/proxy/worker.hpp>

namespace chokepoint::control {

// Each tunnel: id, client, user, role, mode, host, port, sni, upstream,
// rule, state (waiting_for_client | relaying), bytes_up, bytes_down, age_s,
// idle_s, and via and upstream_proxy when it has them. The array and a newline.
std::string render_connections(const std::vector<proxy::Worker::OpenTunnel>& tunnels);

}  // namespace chokepoint::control
