// Reloading the policy (SIGHUP, POST /reload, a changed file) as a
// transaction: load -> validate -> compile -> read the users file, and only
// when every step passed, swap the policy and the users in together. A
// user's role comes from the policy, so one never changes without the
// other; a bad file changes nothing and says why, as file:line:column.
//
// prepare_reload reads files but touches nothing running; commit swaps and
// cannot fail. Process settings are not reloaded (they are read at start-up).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <chokepoint/auth/authenticator.hpp>
#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::control {

// What a reload reads: the files the proxy started from.
struct ReloadSource {
  std::string config_path;      // empty: the built-in catalog
  std::string users_file;       // proxy authentication's users
  bool authenticating = false;  // proxy authentication is on: the users file is read too
};

// A new policy and users that passed every check, not yet in use.
struct PreparedReload {
  std::shared_ptr<const policy::Snapshot> snapshot;
  std::string sha256;  // of the bytes it was loaded from
  std::optional<std::map<std::string, auth::PasswordHash>> users;  // when authenticating
  Diagnostics warnings;
};

// Loads, validates and compiles the policy and reads the users file. Every
// problem of both comes back (file:line:column), not only the first.
Result<PreparedReload> prepare_reload(const ReloadSource& source);

// Where a reload lands: the proxy's policy for new connections and, with
// proxy authentication, its users.
struct ReloadTarget {
  std::function<void(std::shared_ptr<const policy::Snapshot>)> replace_policy;
  auth::Authenticator* authenticator = nullptr;
};

// Facts about the running policy, for /policy and /metrics.
struct RunningPolicy {
  std::string source;  // the config path, or the built-in catalog's name
  std::string sha256;
  std::chrono::system_clock::time_point loaded_at;
  std::size_t rules = 0;
  std::vector<std::string> files;  // what it was loaded from (watched)
  std::uint64_t generation = 1;
  std::uint64_t reloads = 0;          // that took effect
  std::uint64_t reload_failures = 0;  // refused: the old policy stayed
  // The policy itself (the admin endpoint's PAC file is made from it).
  std::shared_ptr<const policy::Snapshot> snapshot;

  // The policy the proxy started with.
  static RunningPolicy started(std::string source, std::string sha256,
                               std::shared_ptr<const policy::Snapshot> snapshot);
};

// Swaps `prepared` into `target` (policy and users together) and records it
// in `running`.
void commit(PreparedReload prepared, const ReloadTarget& target, RunningPolicy& running);

struct ReloadOutcome {
  bool ok = false;
  std::string message;  // the diagnostics, one per line, then what was loaded
};

// The whole transaction: prepare, then commit or count the failure.
ReloadOutcome reload(const ReloadSource& source, const ReloadTarget& target,
                     RunningPolicy& running);

}  // namespace chokepoint::control
