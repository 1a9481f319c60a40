// Parsing and validating one destination pattern as an operator writes it.
//
//   ds20.icrc.trendmicro.com   exact name
//   *.xdr.trendmicro.com       one or more labels in front, never the apex
//   .trendmicro.com            the name itself and every name below it
//   ec2.*.amazonaws.com        a "*" elsewhere stands for exactly one label
//   re:^ds[0-9]+\.icrc\.trendmicro\.com$   an RE2 pattern over the whole name
//   10.0.0.0/8, 2001:db8::/32, 192.0.2.7   CIDR blocks and addresses
//
// Refused, each with a message that says what to write instead: a bare "*",
// "*" inside a label ("a*.com"), wildcards whose literal part is a public
// suffix ("*.co.jp", "ec2.*.com"), non-ASCII names, names that are not
// normalised (uppercase, trailing dot), whitespace, and invalid regexes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <chokepoint/policy/policy.hpp>

namespace chokepoint::policy {

// On failure returns nullopt and sets `error` to a complete sentence.
std::optional<HostPattern> parse_host_pattern(std::string_view text, std::string& error);

// The literal labels at the right of a glob ("xdr.trendmicro.com").
std::string glob_anchor(const HostPattern& glob);

}  // namespace chokepoint::policy
