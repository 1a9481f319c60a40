// Private to `learn`: what the records showed, per client group, and what
// the site file will say about it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/tools/learn.hpp>

namespace chokepoint::tools::detail {

// One destination as a group used it.
struct Seen {
  std::uint64_t count = 0;
  std::int64_t first = 0, last = 0;
  bool tunnel = false;             // a CONNECT/transparent connection (no path)
  std::vector<std::string> paths;  // plain HTTP requests' paths, a few
  bool many_paths = false;         // more paths than kept: treat as "any path"
};

using DestinationKey = std::pair<std::string, std::uint16_t>;  // host, port

// Clients the site file names together: a proxy user, or an address block.
struct Group {
  std::string user;                            // by user when not empty
  std::optional<Cidr> block;                   // by address
  const policy::ClientRule* mapped = nullptr;  // the configuration's own entry, kept
  std::string sample_address;                  // one address seen, for checking the result
  std::map<DestinationKey, Seen> seen;
  std::map<std::string, std::uint64_t> recorded_roles;
  std::map<std::string, std::uint64_t> recorded_versions;
  std::uint64_t connections = 0;
  std::int64_t first = 0, last = 0;

  // Decided by the learner.
  int role = policy::kAnyRole;
  std::optional<Version> version;
  bool write_entry = false;  // a clients entry in the site file
  std::string note;          // why this role, when it is a guess
};

// A learned rule: names (or addresses) of one registrable domain, for one
// role, on one set of ports.
struct LearnedName {
  std::string host;
  std::uint64_t count = 0;
  std::int64_t first = 0, last = 0;
};

struct LearnedRule {
  std::string id;
  std::string domain;  // "example.com", or "addresses"
  std::string role;
  std::vector<std::uint16_t> ports;
  std::vector<LearnedName> names;
  std::vector<std::string> suggestions;  // comments: wildcards that would cover several names
};

struct Learned {
  const policy::Policy* policy = nullptr;
  const LearnOptions* options = nullptr;
  std::vector<const Group*> groups;  // in the order of the file
  std::vector<LearnedRule> rules;
  // What was read, for the header.
  std::vector<std::string> sources;
  std::uint64_t records = 0, learned_records = 0, refused_records = 0, malformed = 0;
  std::int64_t first = 0, last = 0;
};

// Rules for what each group's identity would still refuse.
std::vector<LearnedRule> learned_rules(const std::vector<const Group*>& groups,
                                       const policy::Snapshot& config);

// Whether `identity` would let every use of `seen` out (ignoring `mode: audit`).
bool explains(const policy::Snapshot& snapshot, const Host& host, std::uint16_t port,
              const Seen& seen, const policy::ClientIdentity& identity);

// The site file.
std::string render_site_file(const Learned& learned);

}  // namespace chokepoint::tools::detail
