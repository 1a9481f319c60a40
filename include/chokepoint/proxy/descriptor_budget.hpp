// What the process's descriptor limit allows: the proxy must
// refuse a connection itself, with an answer and a record, before the
// kernel refuses it an accept and the client is left hanging. Every tunnel
// holds two sockets; the rest is a reserve for what the process holds
// besides (event loops, listeners, the admin endpoint and its spare
// descriptor, audit and syslog sinks, the file watch, resolver sockets) and
// for each thread's pool of idle pipes. A pipe a tunnel needs beyond that
// is not counted: when none can be had, the tunnel copies instead.
#pragma once

#include <cstddef>

namespace chokepoint::proxy {

struct DescriptorBudget {
  std::size_t max_connections = 0;
  std::size_t idle_pipes_per_thread = 0;
};

// The budget for `descriptors` (RLIMIT_NOFILE) shared by `threads` I/O threads.
DescriptorBudget descriptor_budget(std::size_t descriptors, int threads);

}  // namespace chokepoint::proxy
