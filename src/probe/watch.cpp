#include <set>

#include <chokepoint/probe/watch.hpp>

namespace chokepoint::probe {
namespace {

std::string describe(const Result& r, std::optional<Outcome> before) {
  std::string out(to_string(r.outcome));
  if (!r.detail.empty() && r.outcome != Outcome::Ok) out += ": " + r.detail;
  if (before) {
    out += " (was " + std::string(to_string(*before)) + ")";
  } else {
    out += " (first probe)";
  }
  return out;
}

}  // namespace

std::vector<WatchTarget> watch_targets(const policy::Snapshot& snapshot) {
  const policy::Policy& policy = snapshot.policy();
  std::vector<int> roles;
  for (std::size_t i = 0; i < policy.roles.size(); ++i)
    roles.push_back(static_cast<int>(i));
  // A policy without roles decides every client alike.
  if (roles.empty()) roles.push_back(policy.default_role);

  std::vector<WatchTarget> out;
  std::set<std::pair<std::string, std::uint16_t>> seen;
  for (const int role : roles) {
    const policy::ClientIdentity client = snapshot.identity_for(role, std::nullopt);
    const std::string name = snapshot.role_label(client);
    for (Target& t : targets(snapshot, client)) {
      if (!t.not_probed.empty()) continue;
      if (!seen.emplace(t.host.name, t.port).second) continue;
      out.push_back(WatchTarget{std::move(t), client, name});
    }
  }
  return out;
}

std::optional<audit::Record> WatchState::update(Result result, const std::string& role, Time now) {
  last_probe_ = now;
  auto [it, first] = watched_.try_emplace({result.target.host.name, result.target.port}, Watched{});
  Watched& w = it->second;
  const std::optional<Outcome> before =
      first ? std::nullopt : std::optional<Outcome>(w.result.outcome);
  const bool changed = before ? *before != result.outcome : is_failure(result.outcome);
  if (first || changed) w.since = now;
  w.service = std::string(result.target.service());
  w.rule = std::string(result.target.rule_id());
  w.role = role;
  w.probed_at = now;
  result.target.rule = nullptr;
  w.result = std::move(result);
  if (!changed) return std::nullopt;
  ++w.changes;

  const Result& r = w.result;
  audit::Record record;
  record.ts = now;
  record.event = audit::Event::Probe;
  record.id = "probe";
  record.role = role;
  record.host = r.target.host.name;
  record.port = r.target.port;
  record.upstream = r.upstream;
  record.upstream_proxy = r.upstream_proxy;
  record.rule = w.rule;
  record.service = w.service;
  record.dns_ms = r.dns_ms;
  record.connect_ms = r.connect_ms;
  record.detail = describe(r, before);
  return record;
}

void WatchState::keep_only(const std::vector<WatchTarget>& targets) {
  std::set<std::pair<std::string, std::uint16_t>> wanted;
  for (const WatchTarget& t : targets)
    wanted.emplace(t.target.host.name, t.target.port);
  std::erase_if(watched_, [&](const auto& item) { return !wanted.contains(item.first); });
}

std::vector<Watched> WatchState::list() const {
  std::vector<Watched> out;
  out.reserve(watched_.size());
  for (const auto& [key, w] : watched_)
    out.push_back(w);
  return out;
}

}  // namespace chokepoint::probe
