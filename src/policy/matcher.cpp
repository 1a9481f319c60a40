#include <algorithm>
#include <array>
#include <map>

#include <re2/set.h>

#include <chokepoint/policy/matcher.hpp>
#include <chokepoint/policy/pattern.hpp>

#include "flat_index.hpp"

namespace chokepoint::policy {
namespace {

struct Entry {
  RoleMask roles;
  GroupMask versions;
  const Rule* rule;
  const Destination* destination;
  Action action;
};

struct Range {
  std::uint32_t first = 0;
  std::uint32_t count = 0;
};

struct Glob {
  Entry entry;
  GlobLead lead;
  const std::vector<std::string>* labels;
  int literal_labels;
  int wildcards;
};

constexpr unsigned kFailRole = 1;
constexpr unsigned kFailVersion = 2;
constexpr unsigned kFailPort = 4;
constexpr unsigned kFailPath = 8;

unsigned failed_filters(const Entry& e, const Query& q) {
  unsigned failed = 0;
  if ((e.roles & q.roles) == 0) failed |= kFailRole;
  // A destination listed for no group is for every version, also one that
  // falls in no group (whose mask is empty).
  if (e.versions != kEveryVersion && (e.versions & q.versions) == 0) failed |= kFailVersion;
  if (!contains(e.rule->ports, q.port)) failed |= kFailPort;
  const std::string& path = e.destination->path;
  if (!path.empty() && q.path && q.path->substr(0, path.size()) != path) failed |= kFailPath;
  return failed;
}

bool applies(const Entry& e, const Query& q) {
  return failed_filters(e, q) == 0;
}

// A normalised name split into labels, left to right, without allocating.
// 253 characters hold at most 127 labels.
struct Labels {
  std::array<std::string_view, 128> items;
  int count = 0;

  explicit Labels(std::string_view name) {
    while (count < static_cast<int>(items.size())) {
      const auto dot = name.find('.');
      items[static_cast<std::size_t>(count++)] = name.substr(0, dot);
      if (dot == std::string_view::npos) break;
      name.remove_prefix(dot + 1);
    }
  }
};

bool glob_matches(const Glob& g, const Labels& labels) {
  const int fixed = static_cast<int>(g.labels->size());
  const int extra = labels.count - fixed;
  if (extra < 0) return false;
  if (g.lead == GlobLead::None && extra != 0) return false;
  if (g.lead == GlobLead::OneOrMore && extra == 0) return false;
  for (int i = 0; i < fixed; ++i) {
    const std::string& want = (*g.labels)[static_cast<std::size_t>(i)];
    if (want != "*" && want != labels.items[static_cast<std::size_t>(extra + i)]) return false;
  }
  return true;
}

// More specific: fewer wildcards, then more literal labels.
int compare_specificity(const Glob& a, const Glob& b) {
  if (a.wildcards != b.wildcards) return a.wildcards < b.wildcards ? 1 : -1;
  if (a.literal_labels != b.literal_labels) return a.literal_labels > b.literal_labels ? 1 : -1;
  return 0;
}

Match to_match(const Entry& e, MatchKind kind) {
  return Match{kind, e.action, e.rule, e.destination};
}

std::string address_key(const IpAddress& address) {
  const auto& bytes = address.bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()),
                     static_cast<std::size_t>(address.bit_length() / 8));
}

}  // namespace

std::string_view to_string(MatchKind kind) {
  switch (kind) {
    case MatchKind::None:
      return "none";
    case MatchKind::Exact:
      return "exact";
    case MatchKind::Glob:
      return "wildcard";
    case MatchKind::Regex:
      return "regex";
    case MatchKind::Cidr:
      return "cidr";
  }
  return "none";
}

struct Matcher::Impl {
  // Tier 1: name -> range of `exact_entries`.
  detail::FlatIndex exact;
  std::vector<Range> exact_ranges;
  std::vector<Entry> exact_entries;
  // Tier 2: every suffix of every glob anchor is a trie node; a node's range
  // of `globs` holds the globs anchored exactly there.
  detail::FlatIndex trie;
  std::vector<Range> trie_nodes;
  std::vector<Glob> globs;
  // Tier 3.
  std::unique_ptr<re2::RE2::Set> regexes;
  std::vector<Range> regex_ranges;  // by regex index
  std::vector<Entry> regex_entries;
  // Tier 4: per family, per prefix length (longest first), masked address -> range.
  struct CidrLevel {
    int prefix;
    detail::FlatIndex index;
    std::vector<Range> ranges;
  };
  std::vector<CidrLevel> cidr_levels[2];  // [0] IPv4, [1] IPv6
  std::vector<Entry> cidr_entries;
  std::size_t entries = 0;
  std::string build_error;

  explicit Impl(const Policy& policy);

  template <class Visit>
  void visit_exact(const Query& q, Visit&& visit) const {
    if (const auto* range = exact.find(q.name)) {
      const Range& r = exact_ranges[*range];
      for (auto i = r.first; i < r.first + r.count; ++i)
        visit(exact_entries[i]);
    }
  }

  template <class Visit>
  void visit_globs(const Query& q, const Labels& labels, Visit&& visit) const {
    for (int i = labels.count - 1; i >= 0; --i) {
      const auto offset = static_cast<std::size_t>(
          labels.items[static_cast<std::size_t>(i)].data() - q.name.data());
      const auto* node = trie.find(q.name.substr(offset));
      if (!node) return;  // no glob is anchored at this suffix or below it
      const Range& r = trie_nodes[*node];
      for (auto j = r.first; j < r.first + r.count; ++j) {
        if (glob_matches(globs[j], labels)) visit(globs[j]);
      }
    }
  }

  template <class Visit>
  void visit_regexes(const Query& q, Visit&& visit) const {
    if (!regexes) return;
    thread_local std::vector<int> hits;
    if (hits.capacity() < regex_ranges.size()) hits.reserve(regex_ranges.size());
    hits.clear();
    if (!regexes->Match(re2::StringPiece(q.name.data(), q.name.size()), &hits)) return;
    std::sort(hits.begin(), hits.end());
    for (const int hit : hits) {
      const Range& r = regex_ranges[static_cast<std::size_t>(hit)];
      for (auto i = r.first; i < r.first + r.count; ++i)
        visit(regex_entries[i]);
    }
  }

  // Visits one prefix level at a time, longest first; `visit_level` returns
  // true to stop.
  template <class Visit>
  void visit_cidrs(const Query& q, Visit&& visit_level) const {
    const IpAddress address = q.address->unmapped();
    for (const auto& level : cidr_levels[address.is_v4() ? 0 : 1]) {
      const auto* range = level.index.find(address_key(mask_address(address, level.prefix)));
      if (!range) continue;
      const Range& r = level.ranges[*range];
      if (visit_level(&cidr_entries[r.first], &cidr_entries[r.first + r.count])) return;
    }
  }
};

Matcher::Impl::Impl(const Policy& policy) {
  std::map<std::string, std::vector<Entry>> exact_map;
  std::map<std::string, std::vector<Glob>> glob_map;  // by anchor
  std::vector<std::pair<std::string, std::vector<Entry>>> regex_list;
  std::map<int, std::map<std::string, std::vector<Entry>>> cidr_map[2];

  for (const auto& rule : policy.rules) {
    for (const auto& destination : rule.destinations) {
      const Entry entry{rule.roles, destination.versions, &rule, &destination, rule.action};
      const HostPattern& p = destination.pattern;
      ++entries;
      switch (p.kind) {
        case PatternKind::Exact:
          exact_map[p.text].push_back(entry);
          break;
        case PatternKind::Glob: {
          const int literal = static_cast<int>(std::count_if(
              p.labels.begin(), p.labels.end(), [](const std::string& l) { return l != "*"; }));
          glob_map[glob_anchor(p)].push_back(Glob{entry, p.lead, &p.labels, literal, p.wildcards});
          break;
        }
        case PatternKind::Regex: {
          auto it = std::find_if(regex_list.begin(), regex_list.end(),
                                 [&](const auto& r) { return r.first == p.text; });
          if (it == regex_list.end()) it = regex_list.insert(regex_list.end(), {p.text, {}});
          it->second.push_back(entry);
          break;
        }
        case PatternKind::Cidr:
          cidr_map[p.cidr.network().is_v4() ? 0 : 1][p.cidr.prefix_length()]
                  [address_key(p.cidr.network())]
                      .push_back(entry);
          break;
      }
    }
  }

  {
    std::vector<std::string> keys;
    std::vector<std::uint32_t> values;
    for (auto& [name, list] : exact_map) {
      keys.push_back(name);
      values.push_back(static_cast<std::uint32_t>(exact_ranges.size()));
      exact_ranges.push_back(Range{static_cast<std::uint32_t>(exact_entries.size()),
                                   static_cast<std::uint32_t>(list.size())});
      exact_entries.insert(exact_entries.end(), list.begin(), list.end());
    }
    exact.build(keys, values);
  }
  {
    // Every suffix of an anchor becomes a node, so a walk can stop at the
    // first suffix that is not one.
    std::map<std::string, Range> nodes;
    for (auto& [anchor, list] : glob_map) {
      nodes[anchor] =
          Range{static_cast<std::uint32_t>(globs.size()), static_cast<std::uint32_t>(list.size())};
      globs.insert(globs.end(), list.begin(), list.end());
      for (auto dot = anchor.find('.'); dot != std::string::npos; dot = anchor.find('.', dot + 1)) {
        nodes.emplace(anchor.substr(dot + 1), Range{});
      }
    }
    std::vector<std::string> keys;
    std::vector<std::uint32_t> values;
    for (auto& [suffix, range] : nodes) {
      keys.push_back(suffix);
      values.push_back(static_cast<std::uint32_t>(trie_nodes.size()));
      trie_nodes.push_back(range);
    }
    trie.build(keys, values);
  }
  if (!regex_list.empty()) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(false);
    options.set_max_mem(std::int64_t{256} << 20);
    regexes = std::make_unique<re2::RE2::Set>(options, re2::RE2::ANCHOR_BOTH);
    for (auto& [source, list] : regex_list) {
      regexes->Add(source, nullptr);
      regex_ranges.push_back(Range{static_cast<std::uint32_t>(regex_entries.size()),
                                   static_cast<std::uint32_t>(list.size())});
      regex_entries.insert(regex_entries.end(), list.begin(), list.end());
    }
    if (!regexes->Compile()) {
      build_error = "the re: patterns together exceed RE2's memory budget";
      regexes.reset();
    }
  }
  for (int family = 0; family < 2; ++family) {
    for (auto it = cidr_map[family].rbegin(); it != cidr_map[family].rend(); ++it) {
      CidrLevel level{it->first, {}, {}};
      std::vector<std::string> keys;
      std::vector<std::uint32_t> values;
      for (auto& [key, list] : it->second) {
        keys.push_back(key);
        values.push_back(static_cast<std::uint32_t>(level.ranges.size()));
        level.ranges.push_back(Range{static_cast<std::uint32_t>(cidr_entries.size()),
                                     static_cast<std::uint32_t>(list.size())});
        cidr_entries.insert(cidr_entries.end(), list.begin(), list.end());
      }
      level.index.build(keys, values);
      cidr_levels[family].push_back(std::move(level));
    }
  }
}

Matcher::Matcher(const Policy& policy) : impl_(std::make_unique<const Impl>(policy)) {}
Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

Match Matcher::match(const Query& q) const {
  const Impl& m = *impl_;
  Match best;
  bool named = false;
  auto consider = [&](const Entry& e, MatchKind kind) {
    named = true;
    if (applies(e, q) && (!best || e.action > best.action)) best = to_match(e, kind);
  };

  if (q.address) {
    m.visit_cidrs(q, [&](const Entry* begin, const Entry* end) {
      for (const Entry* e = begin; e != end; ++e)
        consider(*e, MatchKind::Cidr);
      return static_cast<bool>(best);
    });
    best.host_named = named;
    return best;
  }

  m.visit_exact(q, [&](const Entry& e) { consider(e, MatchKind::Exact); });
  if (best) return best;

  const Glob* best_glob = nullptr;
  m.visit_globs(q, Labels(q.name), [&](const Glob& g) {
    named = true;
    if (!applies(g.entry, q)) return;
    const int order = best_glob ? compare_specificity(g, *best_glob) : 1;
    if (order > 0 || (order == 0 && g.entry.action > best_glob->entry.action)) best_glob = &g;
  });
  if (best_glob) return to_match(best_glob->entry, MatchKind::Glob);

  m.visit_regexes(q, [&](const Entry& e) { consider(e, MatchKind::Regex); });
  best.host_named = named;
  return best;
}

NearMiss Matcher::near_miss(const Query& q) const {
  const Impl& m = *impl_;
  NearMiss result;
  int fewest = 5;
  auto consider = [&](const Entry& e, MatchKind kind) {
    const unsigned failed = failed_filters(e, q);
    const int count = __builtin_popcount(failed);
    if (failed == 0 || count >= fewest) return;
    fewest = count;
    result.closest = to_match(e, kind);
    result.miss = (failed & kFailRole)      ? Miss::Role
                  : (failed & kFailVersion) ? Miss::Version
                  : (failed & kFailPort)    ? Miss::Port
                                            : Miss::Path;
  };
  if (q.address) {
    m.visit_cidrs(q, [&](const Entry* begin, const Entry* end) {
      for (const Entry* e = begin; e != end; ++e)
        consider(*e, MatchKind::Cidr);
      return false;
    });
    return result;
  }
  m.visit_exact(q, [&](const Entry& e) { consider(e, MatchKind::Exact); });
  m.visit_globs(q, Labels(q.name), [&](const Glob& g) { consider(g.entry, MatchKind::Glob); });
  m.visit_regexes(q, [&](const Entry& e) { consider(e, MatchKind::Regex); });
  return result;
}

std::size_t Matcher::entry_count() const {
  return impl_->entries;
}

const std::string& Matcher::build_error() const {
  return impl_->build_error;
}

std::size_t Matcher::memory_bytes() const {
  const Impl& m = *impl_;
  std::size_t bytes =
      sizeof(Impl) + m.exact.memory_bytes() + m.trie.memory_bytes() +
      m.exact_ranges.capacity() * sizeof(Range) + m.exact_entries.capacity() * sizeof(Entry) +
      m.trie_nodes.capacity() * sizeof(Range) + m.globs.capacity() * sizeof(Glob) +
      m.regex_entries.capacity() * sizeof(Entry) + m.cidr_entries.capacity() * sizeof(Entry);
  for (const auto& family : m.cidr_levels) {
    for (const auto& level : family)
      bytes += level.index.memory_bytes() + level.ranges.capacity() * sizeof(Range);
  }
  return bytes;
}

}  // namespace chokepoint::policy
