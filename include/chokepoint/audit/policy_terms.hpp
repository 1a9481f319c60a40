// A policy decision in the audit record's terms: the same names, one
// mapping, for every writer of records (the proxy, the benchmarks' log
// generator). Header-only: it needs both modules' types, neither's code.
#pragma once

#include <chokepoint/audit/record.hpp>
#include <chokepoint/policy/snapshot.hpp>

namespace chokepoint::audit {

inline Decision decision_of(policy::Action action) {
  switch (action) {
    case policy::Action::Allow:
      return Decision::Allow;
    case policy::Action::Log:
      return Decision::Log;
    case policy::Action::Deny:
      break;
  }
  return Decision::Deny;
}

inline Reason reason_of(policy::Reason reason) {
  switch (reason) {
    case policy::Reason::RuleAllows:
      return Reason::RuleAllows;
    case policy::Reason::RuleLogs:
      return Reason::RuleLogs;
    case policy::Reason::RuleDenies:
      return Reason::RuleDenies;
    case policy::Reason::NoMatchingRule:
      return Reason::NoMatchingRule;
    case policy::Reason::RoleNotAllowed:
      return Reason::RoleNotAllowed;
    case policy::Reason::VersionNotAllowed:
      return Reason::VersionNotAllowed;
    case policy::Reason::PortNotAllowed:
      return Reason::PortNotAllowed;
    case policy::Reason::PathNotAllowed:
      return Reason::PathNotAllowed;
  }
  return Reason::NoMatchingRule;
}

}  // namespace chokepoint::audit
