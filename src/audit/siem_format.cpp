#include <chokepoint/audit/siem_format.hpp>
#include <chokepoint/core/utf8.hpp>

namespace chokepoint::audit {
namespace {

constexpr int kFacilityLocal0 = 16;

// CEF header fields escape '\' and '|'; extension values escape '\', '=' and
// line breaks (CEF rules, "Character Encoding"). Control bytes become spaces.
// CEF is UTF-8: invalid bytes become U+FFFD, as in the JSON record.
std::string cef_escape(std::string_view text, bool header) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const std::size_t length = utf8_sequence_length(text.substr(i));
      if (length == 0) {
        out += kUtf8Replacement;
        ++i;
      } else {
        out += text.substr(i, length);
        i += length;
      }
      continue;
    }
    if (c == '\\' || (header && c == '|') || (!header && c == '=')) {
      out += '\\';
      out += c;
    } else if (c == '\n' && !header) {
      out += "\\n";
    } else if (c == '\r' && !header) {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
    ++i;
  }
  return out;
}

void cef_field(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  if (out.back() != '|') out += ' ';
  out += key;
  out += '=';
  out += cef_escape(value, false);
}

// "10.0.0.9:51514" or "[2001:db8::1]:443" -> address and port.
std::pair<std::string_view, std::string_view> split_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return {text, {}};
  std::string_view address = text.substr(0, colon);
  if (address.size() >= 2 && address.front() == '[')
    address = address.substr(1, address.size() - 2);
  return {address, text.substr(colon + 1)};
}

int severity_of(Event event) {
  switch (event) {
    case Event::Open:
    case Event::Close:
      return 6;  // informational
    case Event::Deny:
      return 4;  // warning
    case Event::Error:
      return 3;  // error
    case Event::Probe:
      return 5;  // notice: a destination's reachability changed
  }
  return 6;
}

}  // namespace

std::string format_cef(const Record& r, std::string_view product_version) {
  const bool denied = r.event == Event::Deny;
  const std::string_view name = denied                    ? "Connection denied"
                                : r.event == Event::Error ? "Connection failed"
                                : r.event == Event::Open  ? "Connection opened"
                                : r.event == Event::Probe ? "Destination reachability changed"
                                                          : "Connection closed";
  const int severity = denied ? 7 : r.event == Event::Error ? 5 : 3;
  std::string out = "CEF:0|Trend Micro|chokepoint|" + cef_escape(product_version, true) + "|" +
                    std::string(to_string(r.event)) + "|" + std::string(name) + "|" +
                    std::to_string(severity) + "|";
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(r.ts.time_since_epoch()).count();
  cef_field(out, "rt", std::to_string(ms));
  const auto [src, spt] = split_endpoint(r.client);
  cef_field(out, "src", src);
  cef_field(out, "spt", spt);
  const auto [dst, dst_port] = split_endpoint(r.upstream);
  cef_field(out, "dst", dst);
  cef_field(out, "dpt", r.port ? std::to_string(r.port) : std::string(dst_port));
  cef_field(out, "dhost", r.host);
  cef_field(out, "suser", r.user);
  // The manager's name for the client's computer is the source's host name.
  cef_field(out, "shost", r.computer);
  cef_field(out, "act", to_string(r.decision));
  cef_field(out, "reason", to_string(r.reason));
  // A probe record's detail begins with the destination's new outcome.
  const bool failed =
      denied || r.event == Event::Error || (r.event == Event::Probe && !r.detail.starts_with("ok"));
  cef_field(out, "outcome", failed ? "failure" : "success");
  if (r.event == Event::Close) {
    cef_field(out, "in", std::to_string(r.bytes_down));
    cef_field(out, "out", std::to_string(r.bytes_up));
  }
  // Labelled with the record's own keys.
  const std::pair<std::string_view, const std::string*> custom[] = {
      {key::rule, &r.rule}, {key::role, &r.role}, {key::sni, &r.sni},
      {key::mode, nullptr}, {key::id, &r.id},     {key::orig_dst, &r.orig_dst}};
  int n = 1;
  for (const auto& [label, value] : custom) {
    const std::string text = value ? *value : std::string(to_string(r.mode));
    if (!text.empty()) {
      cef_field(out, "cs" + std::to_string(n) + "Label", label);
      cef_field(out, "cs" + std::to_string(n), text);
    }
    ++n;
  }
  // cs1-cs6 are taken; CEF's two flex strings carry who stood in between.
  const std::pair<std::string_view, const std::string*> between[] = {
      {key::via, &r.via}, {key::upstream_proxy, &r.upstream_proxy}};
  n = 1;
  for (const auto& [label, value] : between) {
    if (!value->empty()) {
      cef_field(out, "flexString" + std::to_string(n) + "Label", label);
      cef_field(out, "flexString" + std::to_string(n), *value);
    }
    ++n;
  }
  if (r.computer_id) {
    cef_field(out, "cn1Label", key::computer_id);
    cef_field(out, "cn1", std::to_string(r.computer_id));
  }
  // Every custom string is taken: how the role was found goes under the
  // record's own key (CEF readers keep extension keys outside the
  // dictionary as they are).
  cef_field(out, key::identity, r.identity);
  return out;
}

std::string format_rfc5424(const Record& r, SiemFormat format, std::string_view hostname, int pid,
                           std::string_view product_version) {
  const int pri = kFacilityLocal0 * 8 + severity_of(r.event);
  std::string out = "<" + std::to_string(pri) + ">1 " + format_timestamp(r.ts) + " ";
  out += hostname.empty() ? std::string("-") : std::string(hostname);
  out += " chokepoint " + std::to_string(pid) + " " + std::string(to_string(r.event)) + " - ";
  if (format == SiemFormat::Cef) {
    out += format_cef(r, product_version);
  } else {
    append_json_line(out, r);
    out.pop_back();  // the newline
  }
  return out;
}

std::string octet_counted(std::string_view message) {
  return std::to_string(message.size()) + " " + std::string(message);
}

}  // namespace chokepoint::audit
