#include <set>

#include <chokepoint/policy/pattern.hpp>

#include "export_selection.hpp"

namespace chokepoint::tools::detail {
namespace {

// Local rules take sids from 1,000,000 up (the range Suricata leaves to sites).
constexpr unsigned kFirstSid = 1000001;

std::string port_list(const policy::PortSet& ports) {
  if (ports.size() == 1 && ports.front().first == ports.front().last)
    return std::to_string(ports.front().first);
  return "[" + ports_text(ports, ",", ":") + "]";
}

// Inside a quoted option value, '"', ';' and '\' are special; in content
// also '|'. Bytes that are (and anything not printable) go as |hex|.
std::string content_text(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == ';' || c == '\\' || c == '|' || u < 0x20 || u >= 0x7f) {
      out += '|';
      out += kHex[u >> 4];
      out += kHex[u & 15];
      out += '|';
    } else {
      out += c;
    }
  }
  return out;
}

// A msg value: Suricata's rule syntax escapes '"', ';' and '\' with a
// backslash in every option value. A control byte (a path cannot hold one)
// would end the rule's line: it becomes a space.
std::string msg_text(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == ';' || c == '\\') out += '\\';
    out += u < 0x20 || u == 0x7f ? ' ' : c;
  }
  return out;
}

// A pattern between the slashes of pcre:"/.../". The rule syntax's '"' and
// ';', the delimiter '/' and control bytes (a newline would split the rule)
// are written as PCRE's \xHH, which stands for that character anywhere in
// a pattern, in a class too; escaped ("\;") or not, the character is
// literal in both. Inside \Q...\E, where \xHH would be read as text, the
// quote is closed around it. Other escapes pass as they are. (The loader
// refuses control bytes in re: patterns; this holds whatever it allows.)
std::string pcre_text(std::string_view regex) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto special = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '"' || c == ';' || c == '/' || u < 0x20 || u == 0x7f;
  };
  std::string out;
  bool quoted = false;  // inside \Q...\E
  for (std::size_t i = 0; i < regex.size(); ++i) {
    char c = regex[i];
    if (c == '\\' && i + 1 < regex.size()) {
      const char next = regex[i + 1];
      if (quoted ? next == 'E' : !special(next)) {
        quoted = quoted ? false : next == 'Q';
        out += c;
        out += next;
        ++i;
        continue;
      }
      if (!quoted) c = regex[++i];  // an escaped special: literal, as \xHH is
    }
    if (!special(c)) {
      out += c;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    out += quoted ? "\\E\\x" : "\\x";
    out += kHex[u >> 4];
    out += kHex[u & 15];
    if (quoted) out += "\\Q";
  }
  return out;
}

std::string glob_pcre(const policy::HostPattern& glob) {
  std::string out = "^";
  if (glob.lead == policy::GlobLead::OneOrMore) out += "(?:[^.]+\\.)+";
  if (glob.lead == policy::GlobLead::ZeroOrMore) out += "(?:[^.]+\\.)*";
  for (std::size_t i = 0; i < glob.labels.size(); ++i) {
    if (i > 0) out += "\\.";
    out += glob.labels[i] == "*" ? "[^.]+" : glob.labels[i];
  }
  return out + "$";
}

// The options that match one destination's name in a sticky buffer. tls.sni
// is as the client wrote it (nocase); http.host is normalised to lowercase
// already, where Suricata refuses nocase.
std::string name_options(const policy::HostPattern& p, bool tls) {
  const std::string nocase = tls ? " nocase;" : "";
  const std::string flag = tls ? "i" : "";
  switch (p.kind) {
    case policy::PatternKind::Exact:
      return "content:\"" + p.text + "\";" + nocase + " startswith; endswith;";
    case policy::PatternKind::Glob:
      if (is_middle_glob(p)) {
        return "content:\"." + policy::glob_anchor(p) + "\";" + nocase + " endswith; pcre:\"/" +
               pcre_text(glob_pcre(p)) + "/" + flag + "\";";
      }
      if (p.lead == policy::GlobLead::ZeroOrMore) {
        return "dotprefix; content:\"." + policy::glob_anchor(p) + "\";" + nocase + " endswith;";
      }
      return "content:\"." + policy::glob_anchor(p) + "\";" + nocase + " endswith;";
    case policy::PatternKind::Regex:
      return "pcre:\"/^(?:" + pcre_text(p.text) + ")$/" + flag + "\";";
    case policy::PatternKind::Cidr:
      break;
  }
  return "";
}

}  // namespace

ExportOutput export_suricata(const Selection& s) {
  ExportOutput out;
  out.text = comment_block(
      "#", export_header(s, ExportFormat::Suricata),
      {note_list("re: rules", s.regexes,
                 "written as PCRE as they are ('\"', ';' and '/' as \\xHH); RE2-only syntax would "
                 "need rewriting"),
       note_versions(s), note_roles(s), note_deny(s)});
  out.text +=
      "# pass rules for what the policy lets out: TLS by SNI and plain HTTP by Host (and path\n"
      "# prefix), on the rule's ports; CIDR destinations by address. Sources are $HOME_NET.\n"
      "# For an inline IPS that drops the rest, enable the two drop rules at the end.\n";
  unsigned sid = kFirstSid;
  const auto rule = [&](std::string_view proto, std::string_view dest, const policy::Rule& r,
                        std::string_view what, const std::string& options) {
    out.text += "pass " + std::string(proto) + " $HOME_NET any -> " + std::string(dest) + " " +
                port_list(r.ports) + " (msg:\"chokepoint " + msg_text(r.id) + ": " +
                msg_text(what) + "\"; flow:established,to_server; " + options +
                " sid:" + std::to_string(sid++) + "; rev:1;)\n";
  };
  for (const auto& selected : s.rules) {
    const policy::Rule& r = *selected.rule;
    std::set<std::string> tls_done;
    std::set<std::string> cidr_seen;
    std::string cidrs;
    for (const auto* d : selected.destinations) {
      const auto& p = d->pattern;
      if (p.kind == policy::PatternKind::Cidr) {
        if (cidr_seen.insert(p.cidr.to_string()).second)
          cidrs += (cidrs.empty() ? "" : ",") + p.cidr.to_string();
        continue;
      }
      const std::string what = p.kind == policy::PatternKind::Regex ? "re rule" : p.text;
      // A tunnel shows no path: the host alone decides TLS, once per host.
      if (tls_done.insert(p.text).second)
        rule("tls", "$EXTERNAL_NET", r, what, "tls.sni; " + name_options(p, true));
      std::string http = "http.host; " + name_options(p, false);
      if (!d->path.empty())
        http += " http.uri; content:\"" + content_text(d->path) + "\"; startswith;";
      rule("http", "$EXTERNAL_NET", r, what + d->path, http);
    }
    if (!cidrs.empty()) {
      out.text += "pass tcp $HOME_NET any -> [" + cidrs + "] " + port_list(r.ports) +
                  " (msg:\"chokepoint " + msg_text(r.id) +
                  ": addresses\"; flow:to_server; sid:" + std::to_string(sid++) + "; rev:1;)\n";
    }
  }
  out.text +=
      "# drop tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"chokepoint: TLS to a name not "
      "on the list\"; flow:established,to_server; sid:" +
      std::to_string(sid++) + "; rev:1;)\n";
  out.text +=
      "# drop http $HOME_NET any -> $EXTERNAL_NET any (msg:\"chokepoint: HTTP to a host "
      "not on the list\"; flow:established,to_server; sid:" +
      std::to_string(sid++) + "; rev:1;)\n";
  return out;
}

}  // namespace chokepoint::tools::detail
