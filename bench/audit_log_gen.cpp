// A synthetic but realistic audit log, for measuring `chokepoint report` at
// scale (bench/report_speed.py) where running the proxy for a day is not practical.
//
//   build/bench/audit_log_gen --bytes 1073741824 --seed 1 > audit.jsonl
//
// Every record is written by the proxy's own formatter (audit::append_json_line)
// and every decision, reason and detail comes from the real policy: the shipped
// catalog with a site's Manager, relays, database and clients. A day of traffic:
// ~2,000 agents of two versions, 20 relays, the Manager, unmapped hosts; mostly
// catalog destinations, some outside it, refusals for the wrong role, version
// and port, connection errors; CONNECT, plain HTTP and transparent mode; the
// first 30% of the day in audit mode (would-deny), the rest enforced.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "audit_log_synth.hpp"

int main(int argc, char** argv) {
  std::uint64_t bytes = 64 << 20;
  std::uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--bytes") == 0) bytes = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--seed") == 0) seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  chokepoint::bench::synthesize_audit_log(bytes, seed, [](std::string_view chunk) {
    std::fwrite(chunk.data(), 1, chunk.size(), stdout);
  });
  return 0;
}
