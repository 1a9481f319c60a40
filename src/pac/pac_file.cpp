#include <map>
#include <set>
#include <vector>

#include <chokepoint/core/json.hpp>
#include <chokepoint/pac/pac_file.hpp>

namespace chokepoint::pac {
namespace {

// The fixed part of the script. Names are compared as the policy compares
// them: lowercase, one trailing dot removed; a hostname entry never matches
// an IP literal and a CIDR block never matches a name. Every identifier is
// prefixed so that nothing collides with the engine's own functions.
constexpr std::string_view kRuntime = R"JS(
var chokepointUrl = /^([a-z][a-z0-9+.\-]*):\/\/(?:[^\/?#@]*@)?(?:\[[^\]\/?#]*\]|[^\/?#:]*)(?::([0-9]*))?([^?#]*)/i;

function chokepointPortOf(scheme, explicitPort) {
  if (explicitPort) return parseInt(explicitPort, 10);
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "ftp") return 21;
  return 0;
}

// entries: [[first, last, first, last, ...], pathPrefix] ("" for any path);
// path is null unless the URL is plain http:// (a tunnel shows no path).
function chokepointAnyEntry(entries, port, path) {
  for (var i = 0; i < entries.length; i++) {
    var ports = entries[i][0], prefix = entries[i][1];
    if (prefix != "" && path != null && path.substring(0, prefix.length) != prefix) continue;
    for (var j = 0; j + 1 < ports.length; j += 2) {
      if (port >= ports[j] && port <= ports[j + 1]) return true;
    }
  }
  return false;
}

function chokepointGroups(text) {
  var out = [], parts, i, v4;
  if (text == "") return out;
  parts = text.split(":");
  for (i = 0; i < parts.length; i++) {
    if (i == parts.length - 1 && parts[i].indexOf(".") >= 0) {
      v4 = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/.exec(parts[i]);
      if (!v4 || v4[1] > 255 || v4[2] > 255 || v4[3] > 255 || v4[4] > 255) return null;
      out.push(v4[1] * 256 + v4[2] * 1, v4[3] * 256 + v4[4] * 1);
    } else {
      if (!/^[0-9a-f]{1,4}$/.test(parts[i])) return null;
      out.push(parseInt(parts[i], 16));
    }
  }
  return out;
}

// An IPv6 literal as 8 numbers, or null.
function chokepointV6(text) {
  var at = text.indexOf("::"), head, tail;
  if (at < 0) {
    head = chokepointGroups(text);
    return head && head.length == 8 ? head : null;
  }
  head = chokepointGroups(text.substring(0, at));
  tail = chokepointGroups(text.substring(at + 2));
  if (!head || !tail || head.length + tail.length > 7) return null;
  while (head.length + tail.length < 8) head.push(0);
  return head.concat(tail);
}

function chokepointInNet6(groups, net, bits) {
  for (var i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    var mask = bits >= 16 ? 65535 : (65535 << (16 - bits)) & 65535;
    if ((groups[i] & mask) != net[i]) return false;
  }
  return true;
}

function chokepointAllows(name, port, path) {
  var i;
  if (/^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(name)) {
    for (i = 0; i < chokepointNets4.length; i++) {
      if (isInNet(name, chokepointNets4[i][0], chokepointNets4[i][1]) &&
          chokepointAnyEntry(chokepointNets4[i][2], port, path)) return true;
    }
    return false;
  }
  if (name.indexOf(":") >= 0) {
    var groups = chokepointV6(name);
    if (!groups) return false;
    for (i = 0; i < chokepointNets6.length; i++) {
      if (chokepointInNet6(groups, chokepointNets6[i][0], chokepointNets6[i][1]) &&
          chokepointAnyEntry(chokepointNets6[i][2], port, path)) return true;
    }
    return false;
  }
  var key = "." + name;
  if (chokepointExact.hasOwnProperty(key) && chokepointAnyEntry(chokepointExact[key], port, path))
    return true;
  for (i = 0; i < chokepointGlobs.length; i++) {
    if (chokepointGlobs[i][0].test(name) && chokepointAnyEntry(chokepointGlobs[i][1], port, path))
      return true;
  }
  return false;
}

function FindProxyForURL(url, host) {
  var name = host.toLowerCase();
  if (name.charAt(0) == "[" && name.charAt(name.length - 1) == "]")
    name = name.substring(1, name.length - 1);
  if (name.length > 1 && name.charAt(name.length - 1) == ".")
    name = name.substring(0, name.length - 1);
  var m = chokepointUrl.exec(url);
  if (!m) return chokepointFallback;
  var scheme = m[1].toLowerCase();
  var port = chokepointPortOf(scheme, m[2]);
  if (!(port >= 1 && port <= 65535)) return chokepointFallback;
  var path = scheme == "http" ? (m[3] ? m[3] : "/") : null;
  return chokepointAllows(name, port, path) ? chokepointProxy : chokepointFallback;
}
)JS";

// One applicable entry: "[[80,80,443,443],\"/tmcss/\"]".
std::string entry_text(const policy::PortSet& ports, const std::string& path) {
  std::string out = "[[";
  bool first = true;
  for (const auto& range : ports) {
    if (!first) out += ',';
    first = false;
    out += std::to_string(range.first) + ',' + std::to_string(range.last);
  }
  out += "],";
  append_json_string(out, path);
  out += ']';
  return out;
}

// The labels of a glob as an anchored ECMAScript regex: a "*" label is one
// label, a leading "*." one or more, a leading "." none or more.
std::string glob_regex(const policy::HostPattern& glob) {
  std::string out = "/^";
  if (glob.lead == policy::GlobLead::OneOrMore) out += "(?:[^.]+\\.)+";
  if (glob.lead == policy::GlobLead::ZeroOrMore) out += "(?:[^.]+\\.)*";
  for (std::size_t i = 0; i < glob.labels.size(); ++i) {
    if (i > 0) out += "\\.";
    out += glob.labels[i] == "*" ? "[^.]+" : glob.labels[i];  // labels are [a-z0-9_-]
  }
  return out + "$/";
}

std::string v4_mask(int prefix) {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return std::to_string(mask >> 24) + '.' + std::to_string((mask >> 16) & 255) + '.' +
         std::to_string((mask >> 8) & 255) + '.' + std::to_string(mask & 255);
}

std::string v6_groups(const IpAddress& address) {
  std::string out = "[";
  const auto& b = address.bytes();
  for (std::size_t i = 0; i < 16; i += 2) {
    if (i > 0) out += ',';
    out += std::to_string((unsigned{b[i]} << 8) | b[i + 1]);
  }
  return out + ']';
}

// Text from the policy in a `//` comment: printable ASCII only.
std::string comment_safe(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += '?';
    }
  }
  return out;
}

using Entries = std::set<std::string>;

void write_table(std::string& out, std::string_view name,
                 const std::map<std::string, Entries>& rows, bool object) {
  out += "var ";
  out += name;
  out += object ? " = {" : " = [";
  bool first = true;
  for (const auto& [key, entries] : rows) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    out += object ? "" : "[";
    out += key;
    out += object ? ": [" : ", [";
    bool first_entry = true;
    for (const auto& entry : entries) {
      if (!first_entry) out += ", ";
      first_entry = false;
      out += entry;
    }
    out += object ? "]" : "]]";
  }
  out += object ? "\n};\n" : "\n];\n";
}

}  // namespace

std::optional<ProxyAddress> choose_proxy(const policy::Policy& policy,
                                         std::string_view request_host,
                                         std::uint16_t listener_port) {
  ProxyAddress address;
  if (!policy.pac.proxy.empty()) {
    if (parse_authority(policy.pac.proxy, address.host, address.port) == HostError::None)
      return address;
    return std::nullopt;  // the loader validated it; a Policy built by hand may not be
  }
  if (parse_authority(request_host, address.host, address.port, listener_port) != HostError::None)
    return std::nullopt;
  return address;
}

std::string generate_pac(const policy::Policy& policy, const ProxyAddress& proxy,
                         policy::PacFallback fallback) {
  std::map<std::string, Entries> exact;
  std::map<std::string, Entries> globs;
  std::map<std::string, Entries> nets4;
  std::map<std::string, Entries> nets6;
  std::vector<std::string> regex_notes;
  for (const auto& rule : policy.rules) {
    if (rule.action == policy::Action::Deny) continue;
    for (const auto& destination : rule.destinations) {
      const auto& pattern = destination.pattern;
      std::string entry = entry_text(rule.ports, destination.path);
      switch (pattern.kind) {
        case policy::PatternKind::Exact: {
          std::string key;
          append_json_string(key, "." + pattern.text);
          exact[key].insert(std::move(entry));
          break;
        }
        case policy::PatternKind::Glob:
          globs[glob_regex(pattern)].insert(std::move(entry));
          break;
        case policy::PatternKind::Regex:
          regex_notes.push_back("rule " + rule.id + ": re:" + comment_safe(pattern.text));
          break;
        case policy::PatternKind::Cidr: {
          const auto& network = pattern.cidr.network();
          if (network.is_v4()) {
            nets4["\"" + network.to_string() + "\", \"" + v4_mask(pattern.cidr.prefix_length()) +
                  "\""]
                .insert(std::move(entry));
          } else {
            nets6[v6_groups(network) + ", " + std::to_string(pattern.cidr.prefix_length())].insert(
                std::move(entry));
          }
          break;
        }
      }
    }
  }

  const bool audit = policy.mode == policy::Mode::Audit;
  const std::string proxy_directive = "PROXY " + proxy.to_string();
  const std::string fallback_directive =
      audit || fallback == policy::PacFallback::Proxy ? proxy_directive : "DIRECT";

  std::string out;
  out.reserve(4096 + 64 * (exact.size() + globs.size()));
  out += "// chokepoint proxy auto-configuration, generated from the policy";
  if (!policy.files.empty()) out += " " + comment_safe(policy.files.front());
  out += ".\n// Destinations some role may reach go to " + proxy_directive +
         "; everything else to " + fallback_directive +
         (audit ? " (mode: audit lets every destination out)" : " (pac.fallback)") + ".\n";
  if (regex_notes.empty()) {
    out += "// Every destination of the policy is expressed here.\n";
  } else {
    out += "// A PAC file cannot express these re: rules; they are left to the fallback:\n";
    for (const auto& note : regex_notes)
      out += "//   " + note + "\n";
  }
  out += "\nvar chokepointProxy = \"" + proxy_directive + "\";\n";
  out += "var chokepointFallback = \"" + fallback_directive + "\";\n";
  out +=
      "// Exact names (each key is \".\" + name), then wildcards, then CIDR blocks; each with\n"
      "// its entries: [[first port, last port, ...], path prefix or \"\"].\n";
  write_table(out, "chokepointExact", exact, true);
  write_table(out, "chokepointGlobs", globs, false);
  write_table(out, "chokepointNets4", nets4, false);
  write_table(out, "chokepointNets6", nets6, false);
  out += kRuntime;
  return out;
}

}  // namespace chokepoint::pac
