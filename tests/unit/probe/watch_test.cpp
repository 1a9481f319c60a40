// The background probes' bookkeeping: what a running proxy watches, and a
// record only when a destination's outcome changes.
#include <algorithm>

#include <chokepoint/probe/watch.hpp>

#include "../policy/policy_fixture.hpp"

using namespace chokepoint;
using chokepoint::test::snapshot_from;

namespace {

const char* const kPolicy = R"(
version: 1
default_role: agent
roles:
  agent: {}
  relay: {includes: [agent]}
  manager: {}
version_groups:
  "20.0+": {min: "20.0"}
  "12.0": {min: "12.0", below: "20.0"}
rules:
  - id: smart-scan
    service: Smart Scan
    roles: [agent]
    ports: [443]
    destinations:
      "20.0+": [ds20.icrc.example.com]
      "12.0": [ds120.icrc.example.com]
  - id: updates
    service: ActiveUpdate
    roles: [relay]
    ports: [443]
    destinations: [iaus.example.com, "*.wild.example.com"]
  - id: database
    service: Database
    roles: [manager]
    ports: [1433]
    destinations: [db.example.com]
)";

using Time = std::chrono::system_clock::time_point;
const Time kT0 = Time(std::chrono::seconds(1'700'000'000));

probe::Result result(const probe::WatchTarget& w, probe::Outcome outcome, std::string detail = {}) {
  probe::Result r;
  r.target = w.target;
  r.outcome = outcome;
  r.detail = std::move(detail);
  r.upstream = "192.0.2.1:443";
  r.dns_ms = 1;
  r.connect_ms = 2;
  return r;
}

}  // namespace

TEST_CASE("watch: every role's concrete destinations, each once, as the first role reaching it",
          "[probe][watch]") {
  const auto snapshot = snapshot_from(kPolicy);
  const auto targets = probe::watch_targets(*snapshot);
  std::vector<std::string> seen;
  for (const auto& t : targets)
    seen.push_back(t.role + " " + t.target.host.name + ":" + std::to_string(t.target.port));
  // Both versions' names (no version given), the relay's own, the manager's;
  // the relay's share of the agent's destinations is not probed twice; the
  // wildcard is not watched.
  CHECK(seen == std::vector<std::string>{
                    "agent ds20.icrc.example.com:443", "agent ds120.icrc.example.com:443",
                    "relay iaus.example.com:443", "manager db.example.com:1433"});
}

TEST_CASE("watch: a record only when the outcome changes", "[probe][watch]") {
  const auto snapshot = snapshot_from(kPolicy);
  const auto targets = probe::watch_targets(*snapshot);
  REQUIRE(targets.size() == 4);
  const probe::WatchTarget& scan = targets[0];
  const probe::WatchTarget& db = targets[3];
  probe::WatchState state;

  // Reachable at start: no news.
  CHECK_FALSE(state.update(result(scan, probe::Outcome::Ok), scan.role, kT0));
  // Failing at start: news.
  auto first = state.update(result(db, probe::Outcome::Dns, "no such name"), db.role, kT0);
  REQUIRE(first);
  CHECK(first->event == audit::Event::Probe);
  CHECK(first->host == "db.example.com");
  CHECK(first->port == 1433);
  CHECK(first->rule == "database");
  CHECK(first->service == "Database");
  CHECK(first->role == "manager");
  CHECK(first->detail == "dns: no such name (first probe)");
  CHECK(first->decision == audit::Decision::None);
  // The same again: nothing.
  CHECK_FALSE(state.update(result(db, probe::Outcome::Dns, "no such name"), db.role, kT0));
  CHECK_FALSE(state.update(result(scan, probe::Outcome::Ok), scan.role, kT0));

  // Down, then down another way, then back: one record each.
  const Time t1 = kT0 + std::chrono::seconds(60);
  auto down =
      state.update(result(scan, probe::Outcome::Connect, "connection refused"), scan.role, t1);
  REQUIRE(down);
  CHECK(down->detail == "connect: connection refused (was ok)");
  CHECK(down->upstream == "192.0.2.1:443");
  CHECK(down->connect_ms == 2);
  CHECK(down->ts == t1);
  auto other = state.update(result(scan, probe::Outcome::Timeout, "no answer"), scan.role, t1);
  REQUIRE(other);
  CHECK(other->detail == "timeout: no answer (was connect)");
  const Time t2 = t1 + std::chrono::seconds(60);
  auto back = state.update(result(scan, probe::Outcome::Ok), scan.role, t2);
  REQUIRE(back);
  CHECK(back->detail == "ok (was timeout)");

  const auto list = state.list();
  REQUIRE(list.size() == 2);
  const auto& w = *std::find_if(list.begin(), list.end(), [](const probe::Watched& x) {
    return x.result.target.host.name == "ds20.icrc.example.com";
  });
  CHECK(w.since == t2);
  CHECK(w.probed_at == t2);
  CHECK(w.changes == 3);
  CHECK(w.service == "Smart Scan");
  CHECK(w.rule == "smart-scan");
  // Nothing points into a policy a reload may free.
  CHECK(w.result.target.rule == nullptr);
  CHECK(state.last_probe() == t2);
}

TEST_CASE("watch: a reload forgets what is no longer watched", "[probe][watch]") {
  const auto snapshot = snapshot_from(kPolicy);
  const auto targets = probe::watch_targets(*snapshot);
  probe::WatchState state;
  for (const auto& t : targets)
    (void)state.update(result(t, probe::Outcome::Ok), t.role, kT0);
  CHECK(state.list().size() == 4);
  const auto smaller = std::vector<probe::WatchTarget>(targets.begin(), targets.begin() + 1);
  state.keep_only(smaller);
  REQUIRE(state.list().size() == 1);
  CHECK(state.list()[0].result.target.host.name == "ds20.icrc.example.com");
}
