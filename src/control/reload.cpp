#include <sstream>

#include <chokepoint/config/config_file.hpp>
#include <chokepoint/control/reload.hpp>

namespace chokepoint::control {

Result<PreparedReload> prepare_reload(const ReloadSource& source) {
  Diagnostics problems;
  const auto take = [&problems](const Diagnostics& more) {
    problems.insert(problems.end(), more.begin(), more.end());
  };
  PreparedReload prepared;
  // The whole file, `settings:` too, so a reload refuses what start-up would.
  auto loaded = config::load_config(source.config_path);
  take(loaded.diagnostics());
  if (loaded) {
    prepared.sha256 = loaded.value().policy.sha256;
    auto built = policy::Snapshot::build(std::move(loaded).value().policy.policy);
    take(built.diagnostics());
    if (built) prepared.snapshot = built.value();
  }
  // Read even when the policy failed, so one answer lists every problem.
  if (source.authenticating) {
    auto users = auth::load_users(source.users_file);
    take(users.diagnostics());
    if (users) prepared.users = std::move(users).value();
  }
  if (has_errors(problems) || !prepared.snapshot || (source.authenticating && !prepared.users))
    return Result<PreparedReload>::failure(std::move(problems));
  prepared.warnings = std::move(problems);
  return prepared;
}

RunningPolicy RunningPolicy::started(std::string source, std::string sha256,
                                     std::shared_ptr<const policy::Snapshot> snapshot) {
  RunningPolicy running;
  running.source = std::move(source);
  running.sha256 = std::move(sha256);
  running.loaded_at = std::chrono::system_clock::now();
  running.rules = snapshot->policy().rules.size();
  running.files = snapshot->policy().files;
  running.snapshot = std::move(snapshot);
  return running;
}

void commit(PreparedReload prepared, const ReloadTarget& target, RunningPolicy& running) {
  running.rules = prepared.snapshot->policy().rules.size();
  running.files = prepared.snapshot->policy().files;
  running.snapshot = prepared.snapshot;
  target.replace_policy(std::move(prepared.snapshot));
  if (prepared.users && target.authenticator)
    target.authenticator->replace_users(std::move(*prepared.users));
  running.sha256 = std::move(prepared.sha256);
  running.loaded_at = std::chrono::system_clock::now();
  ++running.generation;
  ++running.reloads;
}

ReloadOutcome reload(const ReloadSource& source, const ReloadTarget& target,
                     RunningPolicy& running) {
  ReloadOutcome outcome;
  auto prepared = prepare_reload(source);
  std::ostringstream message;
  for (const auto& d : prepared.diagnostics())
    message << d.to_string() << '\n';
  if (!prepared) {
    ++running.reload_failures;
    outcome.message = message.str();
    return outcome;
  }
  std::string users_note;
  if (prepared.value().users) {
    users_note =
        ", " + std::to_string(prepared.value().users->size()) + " users from " + source.users_file;
  }
  commit(std::move(prepared).value(), target, running);
  message << "loaded " << running.source << " (" << running.rules << " rules, sha256 "
          << running.sha256.substr(0, 12) << ")" << users_note << "\n";
  outcome.ok = true;
  outcome.message = message.str();
  return outcome;
}

}  // namespace chokepoint::control
