// The compiled matcher against a naive linear one written straight from
// DESIGN.md's semantics, on random policies and random names.
#include <random>
#include <sstream>

#include <re2/re2.h>

#include "policy_fixture.hpp"

using namespace chokepoint;
using namespace chokepoint::policy;

namespace {

// (tier, a, b): larger is more specific. Tier: exact 4, glob 3, regex 2, cidr 1.
using Specificity = std::tuple<int, int, int>;

bool naive_glob(const HostPattern& p, const std::vector<std::string>& labels) {
  const auto fixed = p.labels.size();
  if (labels.size() < fixed) return false;
  const auto extra = labels.size() - fixed;
  if (p.lead == GlobLead::None && extra != 0) return false;
  if (p.lead == GlobLead::OneOrMore && extra == 0) return false;
  for (std::size_t i = 0; i < fixed; ++i) {
    if (p.labels[i] != "*" && p.labels[i] != labels[extra + i]) return false;
  }
  return true;
}

std::optional<Specificity> naive_host_match(const HostPattern& p, const Host& host) {
  if (host.is_ip()) {
    if (p.kind != PatternKind::Cidr || !p.cidr.contains(host.address.unmapped()))
      return std::nullopt;
    return Specificity{1, p.cidr.prefix_length(), 0};
  }
  std::vector<std::string> labels;
  std::istringstream in(host.name);
  for (std::string l; std::getline(in, l, '.');)
    labels.push_back(l);
  switch (p.kind) {
    case PatternKind::Exact:
      if (p.text == host.name) return Specificity{4, 0, 0};
      return std::nullopt;
    case PatternKind::Glob: {
      if (!naive_glob(p, labels)) return std::nullopt;
      int literal = 0;
      for (const auto& l : p.labels)
        literal += l != "*";
      return Specificity{3, -p.wildcards, literal};
    }
    case PatternKind::Regex: {
      RE2::Options o;
      o.set_case_sensitive(false);
      if (RE2::FullMatch(host.name, RE2(p.text, o))) return Specificity{2, 0, 0};
      return std::nullopt;
    }
    case PatternKind::Cidr:
      return std::nullopt;
  }
  return std::nullopt;
}

struct NaiveResult {
  bool matched = false;
  Action action = Action::Deny;
  Specificity specificity{};
};

NaiveResult naive_decide(const Policy& policy, const Host& host, std::uint16_t port,
                         const ClientIdentity& client, std::optional<std::string_view> path) {
  NaiveResult best;
  for (const auto& rule : policy.rules) {
    if ((rule.roles & client.roles) == 0 || !contains(rule.ports, port)) continue;
    for (const auto& d : rule.destinations) {
      if (d.versions != kEveryVersion && (d.versions & client.versions) == 0) continue;
      if (!d.path.empty() && path && path->substr(0, d.path.size()) != d.path) continue;
      const auto s = naive_host_match(d.pattern, host);
      if (!s) continue;
      if (!best.matched || *s > best.specificity ||
          (*s == best.specificity && rule.action > best.action)) {
        best = NaiveResult{true, rule.action, *s};
      }
    }
  }
  return best;
}

const char* const kLabels[] = {"a", "b", "c", "api", "ds20"};
const char* const kBases[] = {"example.com", "trendmicro.com", "corp.example.org"};

std::string random_name(std::mt19937& rng, int max_extra) {
  std::uniform_int_distribution<int> label(0, 4);
  std::uniform_int_distribution<int> base(0, 2);
  std::uniform_int_distribution<int> extra(0, max_extra);
  std::string name = kBases[base(rng)];
  for (int i = extra(rng); i > 0; --i)
    name = std::string(kLabels[label(rng)]) + "." + name;
  return name;
}

std::string random_pattern(std::mt19937& rng) {
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> octet(0, 3);
  switch (kind(rng)) {
    case 0:
    case 1:
    case 2:
      return random_name(rng, 3);
    case 3:
      return "*." + random_name(rng, 2);
    case 4:
      return "." + random_name(rng, 2);
    case 5: {
      std::string base = random_name(rng, 1);
      return std::string(kLabels[octet(rng)]) + ".*." + base;
    }
    case 6:
      return "*.*." + random_name(rng, 1);
    case 7:
      return "re:(a|api)[.].*" + std::string(octet(rng) % 2 ? "example[.]com" : "");
    case 8: {
      const int prefix = 24 + 2 * octet(rng);
      const int third = octet(rng);
      // Align the network to its prefix.
      const int last = (octet(rng) * 64) & ~((1 << (32 - prefix)) - 1) & 0xff;
      return "192.0." + std::to_string(third) + "." + std::to_string(last) + "/" +
             std::to_string(prefix);
    }
    default:
      return "2001:db8::/" + std::to_string(32 + 16 * octet(rng));
  }
}

std::string random_policy(std::mt19937& rng) {
  std::uniform_int_distribution<int> rules(1, 30);
  std::uniform_int_distribution<int> dests(1, 4);
  std::uniform_int_distribution<int> coin(0, 5);
  const char* const actions[] = {"allow", "deny", "log"};
  const char* const roles[] = {"[agent]", "[relay]", "[manager]", "[agent, manager]", "[any]"};
  const char* const ports[] = {"[80, 443]", "[443]", "[8000-8100]", "[80]"};
  std::ostringstream y;
  y << "version: 1\nroles: {agent: {}, relay: {includes: [agent]}, manager: {}}\n"
       "version_groups: {new: {min: \"20\"}, old: {min: \"9\", below: \"20\"}}\nrules:\n";
  const int count = rules(rng);
  for (int r = 0; r < count; ++r) {
    y << "  - id: r" << r << "\n    action: " << actions[coin(rng) % 3]
      << "\n    roles: " << roles[coin(rng) % 5] << "\n    ports: " << ports[coin(rng) % 4] << "\n";
    if (coin(rng) == 0) y << "    versions: [" << (coin(rng) % 2 ? "new" : "old") << "]\n";
    y << "    destinations:\n";
    for (int d = dests(rng); d > 0; --d) {
      std::string dest = random_pattern(rng);
      if (coin(rng) == 0 && dest.find('/') == std::string::npos && dest.rfind("re:", 0) != 0)
        dest += "/p";
      y << "      - '" << dest << "'\n";
    }
  }
  return y.str();
}

}  // namespace

TEST_CASE("compiled matcher agrees with a naive linear matcher",
          "[policy][matcher][differential]") {
  std::mt19937 rng(20261125);
  const std::uint16_t ports[] = {80, 443, 8050, 22};
  int compared = 0;
  for (int round = 0; round < 300; ++round) {
    const std::string yaml = random_policy(rng);
    auto loaded = load_config_text(yaml, "random.yaml");
    if (!loaded) continue;  // duplicate-looking rules may collide; skip those draws
    const auto built = Snapshot::build(std::move(loaded).value().policy);
    REQUIRE(built.ok());
    const Snapshot& s = *built.value();
    for (int q = 0; q < 200; ++q) {
      Host host;
      const bool ip = q % 5 == 0;
      const std::string text =
          ip ? (q % 10 == 0 ? "192.0." + std::to_string(q % 4) + "." + std::to_string(q % 256)
                            : "2001:db8::" + std::to_string(q))
             : random_name(rng, 4);
      REQUIRE(normalize_host(text, host) == HostError::None);
      const std::uint16_t port = ports[q % 4];
      const char* const role_names[] = {"agent", "relay", "manager", ""};
      const char* const versions[] = {"", "20.0", "12.0", "5.0"};
      const auto client = test::identity(s, role_names[q % 4], versions[(q / 4) % 4]);
      std::optional<std::string_view> path;
      if (q % 3 == 0) path = (q % 2 == 0) ? "/p/x" : "/q";

      const Decision fast = s.decide(host, port, client, path);
      const NaiveResult slow = naive_decide(s.policy(), host, port, client, path);
      INFO(yaml << "\nquery: " << text << ":" << port << " role " << role_names[q % 4]);
      REQUIRE(static_cast<bool>(fast.match) == slow.matched);
      REQUIRE(to_string(fast.action) == to_string(slow.action));
      if (slow.matched) {
        const MatchKind tiers[] = {MatchKind::None, MatchKind::Cidr, MatchKind::Regex,
                                   MatchKind::Glob, MatchKind::Exact};
        REQUIRE(fast.match.kind == tiers[std::get<0>(slow.specificity)]);
      }
      ++compared;
    }
  }
  CHECK(compared > 30000);
}
