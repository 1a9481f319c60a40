#include <algorithm>
#include <bit>
#include <unordered_map>

#include <chokepoint/core/json.hpp>

#include "learn_model.hpp"

namespace chokepoint::tools {
namespace {

constexpr std::size_t kKeptPaths = 16;
// Skipped records named one by one; past this many, only counted.
constexpr std::size_t kNamedSkips = 20;

bool let_out_by_a_rule(const policy::Decision& d) {
  return d.action != policy::Action::Deny;  // `mode: audit` aside
}

// `text` for a message: a record's strings may hold anything, and the
// message goes to a terminal.
std::string shown(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// Why a record that was let out cannot go into a site file, which the
// loader would then refuse whole; empty when it can. The proxy never
// writes such a record: a damaged or hand-made log can hold one.
std::string unusable(const AuditRecord& r) {
  Host host;
  const HostError error = normalize_host(r.host, host);
  if (error != HostError::None)
    return "host " + shown(r.host) + " is not a host name (" + std::string(to_string(error)) + ")";
  if (host.name != r.host)
    return "host " + shown(r.host) + " is not written as the proxy writes it (" + shown(host.name) +
           ")";
  if (r.user.find(':') != std::string_view::npos)
    return "user " + shown(r.user) + " cannot be a proxy user (it holds ':')";
  if (r.user.empty() && !IpAddress::parse(client_address(r.client)))
    return "client " + shown(r.client) + " is not an address";
  return {};
}

}  // namespace

namespace detail {

bool explains(const policy::Snapshot& snapshot, const Host& host, std::uint16_t port,
              const Seen& seen, const policy::ClientIdentity& identity) {
  if (seen.tunnel && !let_out_by_a_rule(snapshot.decide(host, port, identity))) return false;
  if (seen.many_paths) {
    // An empty path matches only entries without a path: "every path".
    return let_out_by_a_rule(snapshot.decide(host, port, identity, std::string_view()));
  }
  for (const auto& path : seen.paths) {
    if (!let_out_by_a_rule(snapshot.decide(host, port, identity, std::string_view(path))))
      return false;
  }
  return true;
}

}  // namespace detail

struct Learner::State {
  std::shared_ptr<const policy::Snapshot> config;
  LearnOptions options;
  std::map<std::string, detail::Group> groups;  // "user:NAME" or "cidr:BLOCK"
  std::unordered_map<std::string, detail::Group*> by_address;
  std::unordered_map<std::string, detail::Group*> by_user;
  std::size_t observations = 0;
  std::uint64_t dropped = 0;  // observations past the limit
  detail::Learned learned;
  std::vector<std::string> problems;
  std::vector<std::string> skipped;  // the first kNamedSkips, as warnings
  std::uint64_t more_skipped = 0;
  AuditLineParser parser;

  void add(const AuditRecord& r, std::string_view where);

  detail::Group* group_for(const AuditRecord& r) {
    const policy::Policy& p = config->policy();
    if (!r.user.empty()) {
      const std::string user(r.user);
      if (const auto it = by_user.find(user); it != by_user.end()) return it->second;
      detail::Group& g = groups["user:" + user];
      g.user = user;
      for (const auto& client : p.clients) {
        if (client.user == user) g.mapped = &client;
      }
      g.sample_address = std::string(client_address(r.client));
      by_user.emplace(user, &g);
      return &g;
    }
    const std::string address_text(client_address(r.client));
    if (const auto it = by_address.find(address_text); it != by_address.end()) return it->second;
    const auto address = IpAddress::parse(address_text);
    if (!address) return nullptr;
    const IpAddress a = address->unmapped();
    // The configuration's most specific entry for this address: if it is as
    // narrow as the grouping, the address keeps it.
    const policy::ClientRule* mapped = nullptr;
    for (const auto& client : p.clients) {
      if (client.cidr && client.cidr->contains(a) &&
          (!mapped || client.cidr->prefix_length() > mapped->cidr->prefix_length()))
        mapped = &client;
    }
    const int prefix = a.is_v4() ? options.ipv4_prefix : options.ipv6_prefix;
    Cidr block(mask_address(a, prefix), prefix);
    if (mapped && mapped->cidr->prefix_length() >= prefix) {
      block = *mapped->cidr;
    } else {
      mapped = nullptr;
    }
    detail::Group& g = groups["cidr:" + block.to_string()];
    if (!g.block) {
      g.block = block;
      g.mapped = mapped;
      g.sample_address = a.to_string();
    }
    by_address.emplace(address_text, &g);
    return &g;
  }

  // Connections learned per candidate identity.
  std::uint64_t explained(const detail::Group& g, const policy::ClientIdentity& identity) const {
    std::uint64_t n = 0;
    for (const auto& [key, seen] : g.seen) {
      Host host;
      if (normalize_host(key.first, host) != HostError::None) continue;
      if (detail::explains(*config, host, key.second, seen, identity)) n += seen.count;
    }
    return n;
  }

  void choose_identity(detail::Group& g) {
    const policy::Policy& p = config->policy();
    if (g.mapped) {
      g.role = g.mapped->role;
      g.version = g.mapped->version;
      return;
    }
    std::string recorded_role;
    std::uint64_t votes = 0;
    for (const auto& [role, n] : g.recorded_roles) {
      if (n > votes) recorded_role = role, votes = n;
    }
    int best = -1;
    std::uint64_t best_explained = 0;
    for (int role = 0; role < static_cast<int>(p.roles.size()); ++role) {
      const std::uint64_t n = explained(g, config->identity_for(role, std::nullopt));
      // At equal explanation: the role the records carry (the configuration's
      // mapping stands unless the traffic says otherwise), else the narrower.
      const auto narrower = [&](int a, int b) {
        const bool ra = p.roles[static_cast<std::size_t>(a)].name == recorded_role;
        const bool rb = p.roles[static_cast<std::size_t>(b)].name == recorded_role;
        if (ra != rb) return ra;
        return std::popcount(p.roles[static_cast<std::size_t>(a)].closure) <
               std::popcount(p.roles[static_cast<std::size_t>(b)].closure);
      };
      if (best < 0 || n > best_explained || (n == best_explained && narrower(role, best))) {
        best = role;
        best_explained = n;
      }
    }
    if (best < 0) return;  // a policy without roles: `any`
    if (best_explained == 0) {
      // Nothing in the configuration explains this client: keep the role it
      // was given, else the default role, else the first one.
      const int recorded = p.find_role(recorded_role);
      best = recorded >= 0 ? recorded : p.default_role >= 0 ? p.default_role : 0;
      g.note = "no rule of the configuration explains its traffic; role chosen by default";
    }
    g.role = best;

    // A version, when the traffic pins one: some of it goes to servers of
    // one version group (or another), and one group explains the most. The
    // version the records carry (the configuration's mapping) wins a tie;
    // what the chosen version leaves out becomes learned rules, which widen
    // less than a client of unknown version (every group's servers) would.
    const std::uint64_t all = explained(g, config->identity_for(best, std::nullopt));
    std::optional<Version> recorded;
    std::uint64_t recorded_votes = 0;
    for (const auto& [text, n] : g.recorded_versions) {
      const auto v = Version::parse(text);
      if (v && n > recorded_votes) recorded = v, recorded_votes = n;
    }
    std::vector<Version> candidates;
    if (recorded) candidates.push_back(*recorded);
    for (const auto& group : p.version_groups)
      candidates.push_back(group.min);
    std::optional<Version> chosen;
    std::uint64_t chosen_explained = 0;
    bool tie = false;
    bool version_specific = false;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const std::uint64_t n = explained(g, config->identity_for(best, candidates[i]));
      version_specific |= n < all;
      if (!chosen || n > chosen_explained) {
        chosen = candidates[i];
        chosen_explained = n;
        tie = false;
      } else if (n == chosen_explained && !(recorded && i > 0 && *chosen == *recorded) &&
                 !(candidates[i] == *chosen)) {
        tie = true;
      }
    }
    if (chosen && version_specific && !tie && chosen_explained > 0) {
      g.version = chosen;
    } else if (!version_specific) {
      g.version = recorded;  // nothing in the traffic says otherwise
    }

    // No entry where the configuration already gives this identity.
    const auto sample = IpAddress::parse(g.sample_address);
    const policy::ClientIdentity current =
        config->identify(g.user.empty() && sample ? &*sample : nullptr, g.user);
    g.write_entry = !g.user.empty() || current.role != g.role ||
                    (current.version ? current.version->to_string() : "") !=
                        (g.version ? g.version->to_string() : "");
  }
};

Learner::Learner(std::shared_ptr<const policy::Snapshot> config, LearnOptions options)
    : state_(std::make_unique<State>()) {
  state_->config = std::move(config);
  state_->options = std::move(options);
  state_->learned.policy = &state_->config->policy();
  state_->learned.options = &state_->options;
}

Learner::~Learner() = default;

void Learner::add_file(AuditFile& file) {
  State& s = *state_;
  s.learned.sources.push_back(file.name());
  std::string_view line;
  AuditRecord record;
  std::uint64_t returned = 0;
  while (file.next(line)) {
    ++returned;
    if (line.empty()) continue;
    if (s.parser.parse(line.data(), line.size(), line.size() + kLinePadding, record) !=
        LineError::None) {
      ++s.learned.malformed;
      continue;
    }
    // Oversized lines are skipped by the file, not returned, yet counted.
    s.add(record, file.name() + ":" + std::to_string(returned + file.oversized_lines()));
  }
  if (!file.error().empty()) s.problems.push_back(file.name() + ": " + file.error());
}

void Learner::add(const AuditRecord& r) {
  state_->add(r, "a record");
}

void Learner::State::add(const AuditRecord& r, std::string_view where) {
  const auto& o = options;
  if ((o.since_micros && r.ts_micros < *o.since_micros) ||
      (o.until_micros && r.ts_micros >= *o.until_micros))
    return;
  ++learned.records;
  if (r.event == audit::Event::Deny && r.enforced) ++learned.refused_records;
  // Allowed or logged, or let out by audit mode; `open`, or `error` after
  // such a decision (the destination failed, the policy had said yes).
  const bool learnable =
      (r.event == audit::Event::Open || r.event == audit::Event::Error) &&
      (r.decision == "allow" || r.decision == "log" || (r.decision == "deny" && !r.enforced));
  if (!learnable || r.host.empty() || r.port == 0) return;
  if (const std::string why = unusable(r); !why.empty()) {
    if (skipped.size() < kNamedSkips) {
      skipped.push_back(std::string(where) + ": skipped: " + why);
    } else {
      ++more_skipped;
    }
    return;
  }
  detail::Group* g = group_for(r);
  if (!g) return;

  const detail::DestinationKey key(std::string(r.host), r.port);
  auto it = g->seen.find(key);
  if (it == g->seen.end()) {
    if (observations >= o.max_observations) {
      ++dropped;
      return;
    }
    ++observations;
    it = g->seen.emplace(key, detail::Seen{}).first;
  }
  detail::Seen& seen = it->second;
  ++learned.learned_records;
  ++seen.count;
  ++g->connections;
  const std::int64_t ts = r.ts_micros;
  if (seen.first == 0 || ts < seen.first) seen.first = ts;
  if (ts > seen.last) seen.last = ts;
  if (g->first == 0 || ts < g->first) g->first = ts;
  if (ts > g->last) g->last = ts;
  if (learned.first == 0 || ts < learned.first) learned.first = ts;
  if (ts > learned.last) learned.last = ts;
  if (r.mode == "http") {
    const std::string_view path = r.path.empty() ? std::string_view("/") : r.path;
    if (!seen.many_paths &&
        std::find(seen.paths.begin(), seen.paths.end(), path) == seen.paths.end()) {
      if (seen.paths.size() < kKeptPaths) {
        seen.paths.emplace_back(path);
      } else {
        seen.many_paths = true;
        seen.paths.clear();
      }
    }
  } else {
    seen.tunnel = true;
  }
  if (!r.role.empty()) ++g->recorded_roles[std::string(r.role)];
  if (!r.version.empty()) ++g->recorded_versions[std::string(r.version)];
}

LearnResult Learner::finish() {
  State& s = *state_;
  LearnResult result;
  if (s.dropped > 0) {
    result.problems.push_back(
        "more than " + std::to_string(s.options.max_observations) +
        " distinct (client, destination) pairs; learn from fewer records (--since, --until) or "
        "group clients (--group)");
    return result;
  }
  for (auto& [key, group] : s.groups) {
    s.choose_identity(group);
    s.learned.groups.push_back(&group);
  }
  s.learned.rules = detail::learned_rules(s.learned.groups, *s.config);
  result.yaml = detail::render_site_file(s.learned);
  result.observations = s.observations;
  result.rules = s.learned.rules.size();
  for (const auto* g : s.learned.groups)
    result.clients += g->write_entry ? 1 : 0;

  // Check the file: load it, compile it, decide every learned connection again.
  auto loaded = policy::load_config_text(result.yaml, "learned.yaml");
  if (!loaded) {
    for (const auto& d : loaded.diagnostics())
      result.problems.push_back("the learned file does not load: " + d.to_string());
    return result;
  }
  auto built = policy::Snapshot::build(std::move(loaded).value().policy);
  if (!built) {
    for (const auto& d : built.diagnostics())
      result.problems.push_back("the learned file does not compile: " + d.to_string());
    return result;
  }
  const policy::Snapshot& learned = *built.value();
  for (const auto* g : s.learned.groups) {
    const auto sample = IpAddress::parse(g->sample_address);
    const auto identity = learned.identify(g->user.empty() && sample ? &*sample : nullptr, g->user);
    for (const auto& [key, seen] : g->seen) {
      Host host;
      if (normalize_host(key.first, host) != HostError::None) continue;
      if (detail::explains(learned, host, key.second, seen, identity)) continue;
      const auto decision = learned.decide(host, key.second, identity);
      result.warnings.push_back("still refused: " + format_authority(host, key.second) + " for " +
                                (g->user.empty() ? g->block->to_string() : "user " + g->user) +
                                ": " + learned.describe(decision, host, key.second, identity));
    }
  }
  for (auto& skipped : s.skipped)
    result.warnings.push_back(std::move(skipped));
  if (s.more_skipped > 0)
    result.warnings.push_back("skipped " + std::to_string(s.more_skipped) +
                              " more records it could not use");
  for (const auto& problem : s.problems)
    result.warnings.push_back(problem);
  result.ok = true;
  return result;
}

}  // namespace chokepoint::tools
