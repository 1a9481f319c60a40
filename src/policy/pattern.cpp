#include <re2/re2.h>

#include <chokepoint/core/diagnostic.hpp>
#include <chokepoint/core/host.hpp>
#include <chokepoint/policy/pattern.hpp>
#include <chokepoint/policy/public_suffix.hpp>

namespace chokepoint::policy {
namespace {

bool has_non_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

std::optional<HostPattern> fail(std::string& error, std::string message) {
  error = std::move(message);
  return std::nullopt;
}

std::optional<HostPattern> parse_regex(std::string_view source, std::string& error) {
  if (source.empty()) return fail(error, "empty regular expression after 're:'");
  // No host name holds one, and every export writes patterns into line-based
  // files: a newline would split a Suricata rule or a squid line.
  for (const char c : source) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return fail(error,
                  "control character in the regular expression after 're:' (no host name "
                  "holds one)");
    }
  }
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 re(re2::StringPiece(source.data(), source.size()), options);
  if (!re.ok()) return fail(error, "bad regular expression " + quote(source) + ": " + re.error());
  HostPattern p;
  p.kind = PatternKind::Regex;
  p.text = std::string(source);
  return p;
}

std::optional<HostPattern> parse_glob(std::string_view text, std::string& error) {
  HostPattern p;
  p.kind = PatternKind::Glob;
  p.text = std::string(text);
  std::string_view rest = text;
  if (rest.substr(0, 2) == "*.") {
    p.lead = GlobLead::OneOrMore;
    rest.remove_prefix(2);
  } else if (rest.front() == '.') {
    p.lead = GlobLead::ZeroOrMore;
    rest.remove_prefix(1);
  }
  if (p.lead != GlobLead::None) ++p.wildcards;
  if (rest.empty()) return fail(error, quote(text) + " has no name after the wildcard");

  while (true) {
    const auto dot = rest.find('.');
    const auto label = rest.substr(0, dot);
    if (label.empty()) return fail(error, quote(text) + " has an empty label");
    if (label != "*" && label.find('*') != std::string_view::npos) {
      return fail(error, quote(text) + ": '*' must stand for a whole label (" + quote(label) +
                             " is a partial-label wildcard)");
    }
    if (label == "*") ++p.wildcards;
    p.labels.emplace_back(label);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  for (auto it = p.labels.rbegin(); it != p.labels.rend() && *it != "*"; ++it)
    ++p.anchor_labels;

  const std::string anchor = glob_anchor(p);
  if (anchor.empty()) {
    return fail(error, quote(text) + " ends in a wildcard; it would match names under every " +
                           "top-level domain");
  }
  Host host;
  const auto host_error = normalize_host(anchor, host);
  if (host_error != HostError::None) {
    return fail(error, quote(text) + ": " + std::string(to_string(host_error)));
  }
  if (host.is_ip()) return fail(error, quote(text) + ": a wildcard cannot extend an IP address");
  for (const auto& label : p.labels) {
    if (label == "*") continue;
    Host check;
    if (normalize_host(label, check) != HostError::None) {
      return fail(error, quote(text) + ": invalid label " + quote(label));
    }
  }
  if (is_public_suffix(anchor)) {
    return fail(error, quote(text) + " would match names of different owners under the " +
                           "public suffix " + quote(anchor) + "; name a registrable domain");
  }
  // "*.compute.amazonaws.com": the list says every child of the anchor is a
  // public suffix, so the label the wildcard stands for would cross owners too.
  if (is_public_suffix("x." + anchor)) {
    return fail(error, quote(text) + " would match names of different owners: every name " +
                           "directly under " + quote(anchor) + " is a public suffix");
  }
  return p;
}

}  // namespace

std::string glob_anchor(const HostPattern& glob) {
  std::string anchor;
  const auto first = glob.labels.size() - static_cast<std::size_t>(glob.anchor_labels);
  for (auto i = first; i < glob.labels.size(); ++i) {
    if (!anchor.empty()) anchor += '.';
    anchor += glob.labels[i];
  }
  return anchor;
}

std::optional<HostPattern> parse_host_pattern(std::string_view text, std::string& error) {
  if (text.empty()) return fail(error, "empty destination");
  if (text.substr(0, 3) == "re:") return parse_regex(text.substr(3), error);

  if (text.find_first_of(" \t\r\n") != std::string_view::npos) {
    std::string fixed;
    for (char c : text) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') fixed += c;
    }
    return fail(error, quote(text) + " contains whitespace; did you mean " + quote(fixed) + "?");
  }
  if (has_non_ascii(text)) {
    return fail(error, "non-ASCII name " + quote(text) +
                           "; write internationalised names as A-labels (xn--...)");
  }
  if (text == "*" || text == "*." || text == ".") {
    return fail(error,
                "a bare " + quote(text) + " would let every name out; list the names instead");
  }

  // An IP literal or CIDR block.
  if (text.find(':') != std::string_view::npos ||
      text.find_first_not_of("0123456789./") == std::string_view::npos) {
    std::string cidr_error;
    const auto cidr = Cidr::parse(text, &cidr_error);
    if (!cidr) return fail(error, quote(text) + ": " + cidr_error);
    HostPattern p;
    p.kind = PatternKind::Cidr;
    p.cidr = *cidr;
    p.text = cidr->to_string();
    return p;
  }

  std::string lowered(text);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lowered.size() > 1 && lowered.back() == '.') lowered.pop_back();
  if (lowered != text) {
    return fail(error, quote(text) + " is not normalised; write " + quote(lowered));
  }

  if (text.find('*') != std::string_view::npos || text.front() == '.') {
    return parse_glob(text, error);
  }

  Host host;
  const auto host_error = normalize_host(text, host);
  if (host_error != HostError::None) {
    return fail(error, quote(text) + ": " + std::string(to_string(host_error)));
  }
  HostPattern p;
  p.kind = PatternKind::Exact;
  p.text = host.name;
  return p;
}

}  // namespace chokepoint::policy
