#include <simdjson.h>

#include <chokepoint/tools/audit_reader.hpp>

namespace chokepoint::tools {
namespace {

static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING);

// The longest line a parser accepts; AuditFile skips longer ones before.
constexpr std::size_t kMaxDocument = 4 << 20;

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

AuditEvent event_of(std::string_view text) {
  if (text == "open") return AuditEvent::Open;
  if (text == "close") return AuditEvent::Close;
  if (text == "deny") return AuditEvent::Deny;
  if (text == "error") return AuditEvent::Error;
  return AuditEvent::Other;
}

}  // namespace

bool parse_timestamp(std::string_view text, std::int64_t& micros) {
  int year, month, day, hour, minute, second;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, hour) ||
      text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second))
    return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return false;
  std::size_t at = 19;
  std::int64_t fraction = 0;
  if (at < text.size() && text[at] == '.') {
    int scale = 0;
    ++at;
    const std::size_t first = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (scale < 6) {
        fraction = fraction * 10 + (text[at] - '0');
        ++scale;
      }
      ++at;
    }
    if (at == first) return false;
    for (; scale < 6; ++scale)
      fraction *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int oh, om;
    if (!digits(text, at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, om) || oh > 23 || om > 59)
      return false;
    offset_seconds = (oh * 3600 + om * 60) * (text[at] == '+' ? 1 : -1);
    at += 6;
  } else {
    return false;
  }
  if (at != text.size()) return false;
  const std::int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 +
                               minute * 60 + second - offset_seconds;
  micros = seconds * 1000000 + fraction;
  return true;
}

struct AuditLineParser::Impl {
  simdjson::ondemand::parser parser{kMaxDocument};
};

AuditLineParser::AuditLineParser() : impl_(std::make_unique<Impl>()) {}
AuditLineParser::~AuditLineParser() = default;

LineError AuditLineParser::parse(const char* data, std::size_t size, std::size_t capacity,
                                 AuditRecord& out) {
  namespace od = simdjson::ondemand;
  out = AuditRecord{};
  od::document doc;
  if (impl_->parser.iterate(data, size, capacity).get(doc)) return LineError::NotJson;
  od::object object;
  if (doc.get_object().get(object)) return LineError::NotJson;

  bool has_ts = false;
  bool has_event = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return LineError::NotJson;
    od::value value;
    if (field.value().get(value)) return LineError::NotJson;
    od::json_type type;
    if (value.type().get(type)) return LineError::NotJson;

    if (type == od::json_type::string) {
      std::string_view text;
      if (value.get_string().get(text)) return LineError::NotJson;
      std::string_view* slot = nullptr;
      switch (key.size()) {
        case 2:
          if (key == "ts") {
            has_ts = parse_timestamp(text, out.ts_micros);
            out.ts = text;
          } else if (key == "id") {
            slot = &out.id;
          }
          break;
        case 3:
          slot = key == "sni" ? &out.sni : key == "end" ? &out.end : nullptr;
          break;
        case 4:
          slot = key == "host"   ? &out.host
                 : key == "role" ? &out.role
                 : key == "rule" ? &out.rule
                 : key == "user" ? &out.user
                 : key == "mode" ? &out.mode
                 : key == "path" ? &out.path
                                 : nullptr;
          break;
        case 5:
          if (key == "event") {
            out.event = event_of(text);
            has_event = true;
          }
          break;
        case 6:
          slot = key == "client"   ? &out.client
                 : key == "reason" ? &out.reason
                 : key == "detail" ? &out.detail
                                   : nullptr;
          break;
        case 7:
          slot = key == "version" ? &out.version : key == "service" ? &out.service : nullptr;
          break;
        case 8:
          slot = key == "decision" ? &out.decision : nullptr;
          break;
        default:
          break;
      }
      if (slot) *slot = text;
    } else if (type == od::json_type::number) {
      std::uint64_t n = 0;
      if (value.get_uint64().get(n)) continue;  // negative or fractional: not a field we read
      if (key == "port") {
        out.port = n <= 65535 ? static_cast<std::uint16_t>(n) : 0;
      } else if (key == "bytes_up") {
        out.bytes_up = n;
      } else if (key == "bytes_down") {
        out.bytes_down = n;
      } else if (key == "duration_ms") {
        out.duration_ms =
            n <= static_cast<std::uint64_t>(INT64_MAX) ? static_cast<std::int64_t>(n) : INT64_MAX;
      }
    } else if (type == od::json_type::boolean) {
      bool b = true;
      if (value.get_bool().get(b)) return LineError::NotJson;
      if (key == "enforced") out.enforced = b;
    }
    // null, and nested values no record has: skipped by the iteration.
  }
  // Anything after the object ("{...}{..." from a writer cut short) makes it no record.
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) return LineError::NotJson;
  return has_ts && has_event ? LineError::None : LineError::NotARecord;
}

}  // namespace chokepoint::tools
