#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include <chokepoint/probe/render.hpp>

namespace chokepoint::probe {
namespace {

constexpr std::size_t kOutcomes = static_cast<std::size_t>(Outcome::NotProbed) + 1;
// In summaries, at most this many services are named.
constexpr std::size_t kSummaryServices = 20;

using Counts = std::array<std::size_t, kOutcomes>;

std::size_t index(Outcome o) {
  return static_cast<std::size_t>(o);
}

std::size_t failures(const Counts& c) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < kOutcomes; ++i) {
    if (is_failure(static_cast<Outcome>(i))) n += c[i];
  }
  return n;
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string seconds(std::chrono::milliseconds ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
  return buffer;
}

std::string destination(const Result& r) {
  const Target& t = r.target;
  if (!t.not_probed.empty()) return t.host.name + " (" + t.ports + ")";
  return format_authority(t.host, t.port);
}

// "dns 3, timeout 1": the failing outcomes among `c`.
std::string failure_mix(const Counts& c) {
  std::string out;
  for (std::size_t i = 0; i < kOutcomes; ++i) {
    const auto o = static_cast<Outcome>(i);
    if (!is_failure(o) || c[i] == 0) continue;
    out += (out.empty() ? "" : ", ") + std::string(to_string(o)) + " " + std::to_string(c[i]);
  }
  return out;
}

// The sentence for a failure, with where it happened and what a
// certificate presented: which address a middlebox answers on, and as whom.
std::string failure_text(const Result& r) {
  std::string out = r.detail;
  const bool dialled = r.outcome == Outcome::Connect || r.outcome == Outcome::Timeout ||
                       r.outcome == Outcome::Tls || r.outcome == Outcome::Certificate;
  if (dialled && !r.upstream.empty()) {
    out += " (at " + r.upstream + ")";
  } else if (dialled && !r.addresses.empty()) {
    std::string tried;
    for (const std::string& a : r.addresses)
      tried += (tried.empty() ? "" : ", ") + a;
    out += " (tried " + tried + ")";
  }
  if (!r.subject.empty() || !r.issuer.empty()) {
    out += (out.empty() ? "" : "; ") + std::string("presented ") +
           (r.subject.empty() ? "?" : r.subject) + ", issued by " +
           (r.issuer.empty() ? "?" : r.issuer);
  }
  if (!r.upstream_proxy.empty() && out.find(r.upstream_proxy) == std::string::npos)
    out += " (via " + r.upstream_proxy + ")";
  return out;
}

struct Group {
  std::string name;         // what breaks
  std::string description;  // the rule's, for what the service does
  std::vector<const Result*> results;
  Counts counts{};
};

// Groups in order of first appearance; `key` names each result's group.
template <class Key>
std::vector<Group> group_by(const std::vector<Result>& results, Key key) {
  std::vector<Group> groups;
  std::map<std::string, std::size_t> where;
  for (const Result& r : results) {
    const std::string name = key(r);
    auto [it, added] = where.try_emplace(name, groups.size());
    if (added) {
      groups.push_back({name, r.target.rule ? r.target.rule->description : "", {}, {}});
    }
    Group& g = groups[it->second];
    g.results.push_back(&r);
    ++g.counts[index(r.outcome)];
  }
  return groups;
}

std::string header(const std::vector<Result>& results, const Counts& all, const RunFacts& facts) {
  const std::size_t probed = results.size() - all[index(Outcome::NotProbed)];
  std::string out =
      "chokepoint probe, " + facts.who + ": " + plural(probed, "destination", "destinations") +
      " probed, " + std::to_string(all[index(Outcome::Ok)]) + " reachable, " +
      std::to_string(failures(all)) + " not; " + std::to_string(all[index(Outcome::NotProbed)]) +
      " not probed (" + seconds(facts.elapsed) + ")\n";
  if (facts.out_of_time) {
    out += "The time limit (" + seconds(facts.time_limit) +
           ") ran out: what was still being probed is a timeout, what was not yet is not "
           "probed.\n";
  }
  return out;
}

std::string footer(const Counts& all) {
  const std::size_t failed = failures(all);
  if (failed == 0) return "\nEverything probed is reachable.\n";
  return "\n" + plural(failed, "destination is", "destinations are") +
         " not reachable from here: the Deep Security features above will fail.\n";
}

std::vector<std::string> full_lines(const std::vector<Group>& groups) {
  std::vector<std::string> lines;
  bool any = false;
  for (const Group& g : groups) {
    const std::size_t failed = failures(g.counts);
    if (failed == 0) continue;
    if (!any) lines.push_back("NOT REACHABLE (what breaks, then each destination)");
    any = true;
    const std::size_t probed = g.results.size() - g.counts[index(Outcome::NotProbed)];
    lines.push_back(g.name + ": " + std::to_string(failed) + " of " + std::to_string(probed) +
                    " not reachable");
    if (!g.description.empty()) lines.push_back("    " + g.description);
    std::vector<const Result*> failing;
    for (const Result* r : g.results) {
      if (is_failure(r->outcome)) failing.push_back(r);
    }
    std::stable_sort(failing.begin(), failing.end(),
                     [](const Result* a, const Result* b) { return a->outcome < b->outcome; });
    for (const Result* r : failing) {
      lines.push_back("  " + pad(std::string(to_string(r->outcome)), 12) +
                      pad(destination(*r), 40) + " " + failure_text(*r));
    }
  }
  bool reachable = false;
  for (const Group& g : groups) {
    const std::size_t ok = g.counts[index(Outcome::Ok)];
    if (ok == 0 || failures(g.counts) != 0) continue;
    if (!reachable) lines.push_back(any ? "\nREACHABLE" : "REACHABLE");
    reachable = true;
    lines.push_back("  ok  " + g.name + ": " + plural(ok, "destination", "destinations"));
  }
  bool skipped = false;
  for (const Group& g : groups) {
    for (const Result* r : g.results) {
      if (r->outcome != Outcome::NotProbed) continue;
      if (!skipped) lines.push_back(any || reachable ? "\nNOT PROBED" : "NOT PROBED");
      skipped = true;
      lines.push_back("  " + pad(destination(*r), 40) + " " + r->detail + " [" + g.name + "]");
    }
  }
  return lines;
}

std::vector<std::string> summary_lines(const std::vector<Result>& results, const Counts& all) {
  std::vector<std::string> lines;
  lines.push_back("Too many to list one by one (--format json lists every destination):");
  for (std::size_t i = 0; i < kOutcomes; ++i) {
    const auto o = static_cast<Outcome>(i);
    if (all[i] == 0) continue;
    std::string line = "  " + pad(std::string(to_string(o)), 12) + pad(std::to_string(all[i]), 6);
    const auto example = std::find_if(results.begin(), results.end(),
                                      [o](const Result& r) { return r.outcome == o; });
    if (o != Outcome::Ok) line += "e.g. " + destination(*example) + ": " + failure_text(*example);
    lines.push_back(line);
  }
  // Per service, versions merged: a DNS view that fails everything fails
  // every version's names alike.
  const auto groups =
      group_by(results, [](const Result& r) { return std::string(r.target.service()); });
  lines.push_back("");
  lines.push_back("By service (failing first):");
  std::vector<const Group*> order;
  for (const Group& g : groups)
    order.push_back(&g);
  std::stable_sort(order.begin(), order.end(), [](const Group* a, const Group* b) {
    return (failures(a->counts) != 0) > (failures(b->counts) != 0);
  });
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == kSummaryServices) {
      lines.push_back("  ... and " + plural(order.size() - i, "more service", "more services"));
      break;
    }
    const Group& g = *order[i];
    const std::size_t skipped = g.counts[index(Outcome::NotProbed)];
    const std::size_t probed = g.results.size() - skipped;
    const std::size_t failed = failures(g.counts);
    std::string line = "  " + pad(g.name.empty() ? "(no service)" : g.name, 60) + " ";
    if (failed != 0) {
      line += std::to_string(failed) + " of " + std::to_string(probed) + " not reachable (" +
              failure_mix(g.counts) + ")";
    } else if (probed != 0) {
      line += std::to_string(probed) + " reachable";
    }
    if (skipped != 0) line += (probed != 0 ? ", " : "") + std::to_string(skipped) + " not probed";
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

std::string render_text(const std::vector<Result>& results, const RunFacts& facts) {
  Counts all{};
  for (const Result& r : results)
    ++all[index(r.outcome)];
  std::string out = header(results, all, facts);
  if (results.empty())
    return out + "Nothing to probe: the policy lets this role reach no destination.\n";
  const auto groups = group_by(results, [](const Result& r) { return what_breaks(r.target); });
  std::vector<std::string> lines = full_lines(groups);
  if (lines.size() > kScreenLines) lines = summary_lines(results, all);
  out += '\n';
  for (const std::string& line : lines)
    out += line + '\n';
  return out + footer(all);
}

}  // namespace chokepoint::probe
