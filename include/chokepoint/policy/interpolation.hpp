// Variables inside destinations (DESIGN.md, "Catalogs"): `${NAME}` stands
// either for a whole destination or for one label of a host name.
//
//   ${manager}            each value is a destination of its own (a name, a
//   ${manager}/api        wildcard, an address or a CIDR block), with the
//                         path written after the variable, if any
//   agents.workload.${workload_security_region}.cloudone.trendmicro.com
//                         each value is one DNS label (a-z, 0-9, '-', '_'; at
//                         most 63; lowercase); every combination of the values
//                         of the variables the name uses yields one destination
//
// Refused, each with a message saying what to write: a variable in part of
// a label (`x${a}.example.com`), in a path, in a `re:` pattern, or in an
// address or CIDR block (`10.${net}.0.0/16`, `${net}/24`: an address is
// never spelled from pieces, so that a value can never widen a block); an
// undefined or unterminated variable; a value that is not one label where a
// label stands; more than kMaxExpansions destinations from one entry.
//
// A variable with no value yields no destination. Which such variables a
// name used is reported (Expansion::unset), so that the loader can warn: a
// catalog that writes its vendor's names with a variable allows none of them
// until a site gives the variable a value.
//
// Pure: no I/O, no exceptions. The texts it returns still have to pass
// parse_host_pattern (pattern.hpp), which validates the whole name.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <chokepoint/policy/policy.hpp>

namespace chokepoint::policy {

using Variables = std::map<std::string, std::vector<VariableValue>>;

// A bound on one entry's destinations: `${a}.${b}.${c}.example.com` grows as
// the product of the variables' sizes, and a policy file is untrusted input
// to the loader (it is fuzzed).
inline constexpr std::size_t kMaxExpansions = 4096;

struct ExpandedText {
  std::string text;  // the destination with every variable replaced
  SourcePos pos;     // where a problem with this text is best reported
};

struct ExpansionError {
  SourcePos pos;
  std::string message;  // a complete sentence
};

struct Expansion {
  std::vector<ExpandedText> texts;  // empty when a variable has no value, or on error
  std::vector<ExpansionError> errors;
  // True when variables stand for labels inside a host name (not for the
  // whole destination).
  bool inside_name = false;
  std::vector<std::string> unset;  // variables it uses that have no value
};

// Expands one destination as written at `at`. Texts without "${" come back
// unchanged. Repeated values of one variable yield one destination.
Expansion expand_destination(std::string_view written, const SourcePos& at,
                             const Variables& variables);

// The value each variable of `host_template` (a host part as written, such
// as "agents.${region}.example.com") needs for the template to yield `host`,
// a normalised name; nullopt when no values would. A "*" label matches any
// one label; templates with a leading wildcard ("*.", ".") bind nothing.
std::optional<std::vector<std::pair<std::string, std::string>>> bind_template(
    std::string_view host_template, std::string_view host);

}  // namespace chokepoint::policy
