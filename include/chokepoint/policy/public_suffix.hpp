// The Public Suffix List, compiled in from Debian's `publicsuffix` package at
// build time, so `chokepoint check` gives the same answer on every machine.
//
// Used to refuse wildcards that would span registrable domains of different
// owners ("*.co.jp", "*.s3.amazonaws.com"). Only ASCII rules are kept; IDN
// TLDs appear in the list in Unicode, which no normalised name can match.
#pragma once

#include <string_view>

namespace chokepoint::policy {

// The public suffix of a normalised name (lowercase, no trailing dot), by the
// PSL algorithm: exception rules first, then the longest matching rule, else
// the last label. The result is a suffix of `name`.
std::string_view public_suffix(std::string_view name);

// True when `name` is itself a public suffix ("com", "co.jp", "googleapis.com").
bool is_public_suffix(std::string_view name);

}  // namespace chokepoint::policy
