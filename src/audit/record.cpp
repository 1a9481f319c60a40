#include <ctime>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/json.hpp>

namespace chokepoint::audit {

std::string_view to_string(Event event) {
  switch (event) {
    case Event::Open:
      return "open";
    case Event::Close:
      return "close";
    case Event::Deny:
      return "deny";
    case Event::Error:
      return "error";
  }
  return "error";
}

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::Connect:
      return "connect";
    case Mode::Http:
      return "http";
    case Mode::Transparent:
      return "transparent";
    case Mode::Sni:
      return "sni";
    case Mode::Socks:
      return "socks";
  }
  return "connect";
}

std::string_view to_string(Decision decision) {
  switch (decision) {
    case Decision::None:
      return "";
    case Decision::Allow:
      return "allow";
    case Decision::Deny:
      return "deny";
    case Decision::Log:
      return "log";
  }
  return "";
}

std::string_view to_string(Source source) {
  switch (source) {
    case Source::None:
      return "";
    case Source::Client:
      return "client";
    case Source::Policy:
      return "policy";
    case Source::Upstream:
      return "upstream";
    case Source::Limit:
      return "limit";
    case Source::Internal:
      return "internal";
  }
  return "";
}

namespace {

struct ReasonInfo {
  std::string_view text;
  Source source;
  Event event;
};

constexpr ReasonInfo kReasons[] = {
#define CHOKEPOINT_REASON_INFO(name, text, source, event) {text, Source::source, Event::event},
    CHOKEPOINT_AUDIT_REASONS(CHOKEPOINT_REASON_INFO)
#undef CHOKEPOINT_REASON_INFO
};

}  // namespace

std::string_view to_string(Reason reason) {
  return kReasons[static_cast<std::size_t>(reason)].text;
}

Source source_of(Reason reason) {
  return kReasons[static_cast<std::size_t>(reason)].source;
}

Event event_of(Reason reason) {
  return kReasons[static_cast<std::size_t>(reason)].event;
}

std::string_view to_string(End end) {
  switch (end) {
    case End::None:
      return "";
    case End::Eof:
      return "eof";
    case End::Reset:
      return "reset";
    case End::IdleTimeout:
      return "idle_timeout";
    case End::HalfCloseTimeout:
      return "half_close_timeout";
    case End::Shutdown:
      return "shutdown";
    case End::Denied:
      return "denied";
  }
  return "";
}

std::string_view to_string(RelayPath path) {
  switch (path) {
    case RelayPath::None:
      return "";
    case RelayPath::Splice:
      return "splice";
    case RelayPath::Copy:
      return "copy";
  }
  return "";
}

namespace {

// Appends `value` as exactly `width` decimal digits.
void append_digits(char*& at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  at += width;
}

}  // namespace

std::string format_timestamp(std::chrono::system_clock::time_point ts) {
  // Written by hand, not with gmtime_r and strftime: every record has one,
  // and the C library's way costs as much as the rest of the record.
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(ts.time_since_epoch()).count();
  const auto day_micros = std::int64_t{86'400'000'000};
  std::int64_t days = micros / day_micros;
  std::int64_t rest = micros % day_micros;
  if (rest < 0) {
    rest += day_micros;
    --days;
  }
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const auto year =
      static_cast<unsigned>(static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2));
  const auto seconds = static_cast<unsigned>(rest / 1'000'000);
  char buffer[32];
  char* at = buffer;
  append_digits(at, year, 4);
  *at++ = '-';
  append_digits(at, month, 2);
  *at++ = '-';
  append_digits(at, day, 2);
  *at++ = 'T';
  append_digits(at, seconds / 3600, 2);
  *at++ = ':';
  append_digits(at, seconds / 60 % 60, 2);
  *at++ = ':';
  append_digits(at, seconds % 60, 2);
  *at++ = '.';
  append_digits(at, static_cast<unsigned>(rest % 1'000'000), 6);
  *at++ = 'Z';
  return std::string(buffer, at);
}

std::string to_json_line(const Record& r) {
  std::string out;
  out.reserve(512);
  append_json_line(out, r);
  return out;
}

void append_json_line(std::string& out, const Record& r) {
  JsonObject json(out);
  json.field("ts", format_timestamp(r.ts))
      .field("event", to_string(r.event))
      .field("id", r.id)
      .string_or_null("client", r.client)
      .string_or_null("user", r.user)
      .string_or_null("role", r.role)
      .field("mode", to_string(r.mode))
      .string_or_null("host", r.host);
  if (r.port != 0) {
    json.field("port", unsigned{r.port});
  } else {
    json.null_field("port");
  }
  json.string_or_null("sni", r.sni)
      .string_or_null("http_host", r.http_host)
      .string_or_null("orig_dst", r.orig_dst)
      .string_or_null("upstream", r.upstream)
      .string_or_null("decision", to_string(r.decision))
      .string_or_null("rule", r.rule)
      .string_or_null("reason", to_string(r.reason))
      .field("enforced", r.enforced)
      .field("bytes_up", r.bytes_up)
      .field("bytes_down", r.bytes_down)
      .field("duration_ms", r.duration_ms);
  if (!r.version.empty()) json.field("version", r.version);
  if (!r.service.empty()) json.field("service", r.service);
  if (!r.dns.empty()) json.field("dns", r.dns);
  if (r.dns_ms >= 0) json.field("dns_ms", r.dns_ms);
  if (r.connect_ms >= 0) json.field("connect_ms", r.connect_ms);
  if (!r.method.empty()) json.field("method", r.method);
  if (!r.path.empty()) json.field("path", r.path);
  if (r.status != 0) json.field("status", r.status);
  if (r.relay != RelayPath::None) json.field("relay", to_string(r.relay));
  if (r.end != End::None) json.field("end", to_string(r.end));
  if (r.source != Source::None) json.field("source", to_string(r.source));
  if (!r.socks_version.empty()) json.field("socks_version", r.socks_version);
  if (!r.socks_method.empty()) json.field("socks_method", r.socks_method);
  if (!r.socks_user_id.empty()) json.field("socks_user_id", r.socks_user_id);
  if (!r.via.empty()) json.field("via", r.via);
  if (!r.upstream_proxy.empty()) json.field("upstream_proxy", r.upstream_proxy);
  if (r.upstream_proxy_status != 0) json.field("upstream_proxy_status", r.upstream_proxy_status);
  if (r.suppressed != 0) json.field("suppressed", r.suppressed);
  if (!r.detail.empty()) json.field("detail", r.detail);
  json.close();
  out += '\n';
}

}  // namespace chokepoint::audit
