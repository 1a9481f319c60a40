// The background probes of a running proxy (`run --probe-interval D`;
// DESIGN.md, "Probing the path"): what is watched and what it last showed.
// Pure: no I/O, no Asio; probe/watcher.hpp drives it.
//
// Watched: every concrete destination any role of the running policy may
// reach, each (host, port) once, probed as the first role (in the policy's
// order) that reaches it, for every agent version: the list `chokepoint
// probe --role R` gives, merged over the roles. Wildcards, regexes and
// ranges are left out; there is nothing to watch there.
//
// An outcome that changes leaves one audit record (`event: probe`); a first
// outcome leaves one only when it is a failure (a destination reachable at
// start is no news, one failing at start is).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/probe/result.hpp>
#include <chokepoint/probe/targets.hpp>

namespace chokepoint::probe {

struct WatchTarget {
  Target target;
  policy::ClientIdentity client;  // the role it is probed as, every version
  std::string role;
};

// In the policy's order; only what can be probed.
std::vector<WatchTarget> watch_targets(const policy::Snapshot& snapshot);

// One destination as last probed. Holds no pointer into a policy: a reload
// may free the one it was probed under.
struct Watched {
  Result result;  // result.target.rule is null; service and rule are below
  std::string service;
  std::string rule;
  std::string role;
  std::chrono::system_clock::time_point probed_at{};
  std::chrono::system_clock::time_point since{};  // when the outcome became what it is
  std::uint64_t changes = 0;                      // records this destination has left
};

class WatchState {
 public:
  using Time = std::chrono::system_clock::time_point;

  // Keeps `result` as the destination's latest. Returns the record to write
  // when its outcome changed (see above), nullopt otherwise.
  std::optional<audit::Record> update(Result result, const std::string& role, Time now);
  // Forgets what is no longer watched (a reload changed the policy).
  void keep_only(const std::vector<WatchTarget>& targets);

  // By host, then port.
  std::vector<Watched> list() const;
  // When a probe last finished; epoch: none yet.
  Time last_probe() const { return last_probe_; }

 private:
  std::map<std::pair<std::string, std::uint16_t>, Watched> watched_;
  Time last_probe_{};
};

}  // namespace chokepoint::probe
