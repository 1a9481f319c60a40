// `chokepoint learn`: a site file (YAML) that allows what the audit records
// show, for an operator moving from `mode: audit` to `enforce`.
//
// The file includes the configuration the records were made under (the
// shipped catalog by default) and adds:
//   - a `clients` entry per address seen (or per /N block, or per proxy
//     user), with the role whose rules explain most of its traffic and the
//     version when its traffic pins one (it reached destinations of one
//     version group only); addresses and users the configuration already
//     maps keep their mapping;
//   - rules for what that role, so mapped, would still be refused: grouped
//     by registrable domain (addresses apart), exact names on the ports seen,
//     with hit counts and first and last seen as comments; wildcards only as
//     suggestions in comments, where several names share a suffix, since a
//     wildcard would let out names nobody asked for.
// Learned from: `open` records (allowed, logged, or let out in audit mode)
// and `error` records of allowed connections. Refusals that were enforced
// stay refused.
//
// The result is checked before it is returned: loaded, compiled, and every
// learned connection decided again under it (identify, then decide). What it
// still refuses (an explicit `deny` rule of the configuration beats a learned
// allow) is listed as a warning. Memory grows with the distinct
// (client, destination) pairs, at most `max_observations`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <chokepoint/policy/loader.hpp>
#include <chokepoint/policy/snapshot.hpp>
#include <chokepoint/tools/audit_reader.hpp>

namespace chokepoint::tools {

struct LearnOptions {
  // What the learned file includes: "builtin:deep-security.yaml" or an absolute path.
  std::string include = std::string(policy::kBuiltinCatalogName);
  int ipv4_prefix = 32;  // --group: one clients entry per block this size
  int ipv6_prefix = 128;
  std::optional<std::int64_t> since_micros;
  std::optional<std::int64_t> until_micros;
  std::size_t max_observations = 1000000;  // distinct (client group, host, port)
};

struct LearnResult {
  bool ok = false;                    // false: nothing usable (see problems)
  std::string yaml;                   // the site file
  std::vector<std::string> warnings;  // connections it still refuses, inputs it could not read
  std::vector<std::string> problems;  // why it failed
  std::size_t clients = 0;            // clients entries written
  std::size_t rules = 0;              // rules written
  std::size_t observations = 0;       // distinct (client group, host, port) learned from
};

class Learner {
 public:
  // `config`: the configuration the records were made under.
  Learner(std::shared_ptr<const policy::Snapshot> config, LearnOptions options);
  ~Learner();
  Learner(const Learner&) = delete;
  Learner& operator=(const Learner&) = delete;

  void add_file(AuditFile& file);
  void add(const AuditRecord& record);

  LearnResult finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace chokepoint::tools
