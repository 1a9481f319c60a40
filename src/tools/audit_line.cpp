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

// The fields a report or learn reads, by their keys (audit/record_fields.hpp).
// Keys are told apart by their bytes packed into one integer (every key of
// eight bytes or fewer): one switch, no string comparisons, on the hottest
// path of `report`.
enum class Field : std::uint8_t {
  None,
  Ts,
  Event,
  Id,
  Client,
  User,
  Role,
  Version,
  Mode,
  Host,
  Sni,
  Decision,
  Rule,
  Service,
  Reason,
  Detail,
  Path,
  End,
  Port,
  BytesUp,
  BytesDown,
  DurationMs,
  Enforced,
  Suppressed,
  Computer,
  ComputerId,
  Identity
};

constexpr std::uint64_t pack(std::string_view key) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < key.size(); ++i)
    v |= std::uint64_t{static_cast<unsigned char>(key[i])} << (8 * i);
  return v;
}

Field field_of(std::string_view key) {
  if (key.size() > 8) {
    if (key == audit::key::bytes_down) return Field::BytesDown;
    if (key == audit::key::duration_ms) return Field::DurationMs;
    if (key == audit::key::suppressed) return Field::Suppressed;
    if (key == audit::key::computer_id) return Field::ComputerId;
    return Field::None;
  }
  switch (pack(key)) {
    case pack(audit::key::ts):
      return Field::Ts;
    case pack(audit::key::event):
      return Field::Event;
    case pack(audit::key::id):
      return Field::Id;
    case pack(audit::key::client):
      return Field::Client;
    case pack(audit::key::user):
      return Field::User;
    case pack(audit::key::role):
      return Field::Role;
    case pack(audit::key::version):
      return Field::Version;
    case pack(audit::key::mode):
      return Field::Mode;
    case pack(audit::key::host):
      return Field::Host;
    case pack(audit::key::sni):
      return Field::Sni;
    case pack(audit::key::decision):
      return Field::Decision;
    case pack(audit::key::rule):
      return Field::Rule;
    case pack(audit::key::service):
      return Field::Service;
    case pack(audit::key::reason):
      return Field::Reason;
    case pack(audit::key::detail):
      return Field::Detail;
    case pack(audit::key::path):
      return Field::Path;
    case pack(audit::key::end):
      return Field::End;
    case pack(audit::key::port):
      return Field::Port;
    case pack(audit::key::bytes_up):
      return Field::BytesUp;
    case pack(audit::key::enforced):
      return Field::Enforced;
    case pack(audit::key::computer):
      return Field::Computer;
    case pack(audit::key::identity):
      return Field::Identity;
    default:
      return Field::None;
  }
}

std::string_view* string_slot(AuditRecord& r, Field field) {
  switch (field) {
    case Field::Id:
      return &r.id;
    case Field::Client:
      return &r.client;
    case Field::User:
      return &r.user;
    case Field::Role:
      return &r.role;
    case Field::Version:
      return &r.version;
    case Field::Mode:
      return &r.mode;
    case Field::Host:
      return &r.host;
    case Field::Sni:
      return &r.sni;
    case Field::Decision:
      return &r.decision;
    case Field::Rule:
      return &r.rule;
    case Field::Service:
      return &r.service;
    case Field::Reason:
      return &r.reason;
    case Field::Detail:
      return &r.detail;
    case Field::Path:
      return &r.path;
    case Field::End:
      return &r.end;
    case Field::Computer:
      return &r.computer;
    case Field::Identity:
      return &r.identity;
    default:
      return nullptr;
  }
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
  for (auto member : object) {
    if (member.error()) return LineError::NotJson;
    // The key as written: ours have no escapes, so the text up to the quote
    // is the key (an escaped key matches none of them); the longest is 11
    // bytes, and the line's padding makes the 16 read here safe.
    const char* raw = member.key().raw();
    std::size_t length = 0;
    while (length < 16 && raw[length] != '"')
      ++length;
    const Field field = length < 16 ? field_of(std::string_view(raw, length)) : Field::None;
    if (field == Field::None) continue;  // the iteration skips what is not read
    od::value value;
    if (member.value().get(value)) return LineError::NotJson;
    od::json_type type;
    if (value.type().get(type)) return LineError::NotJson;

    if (type == od::json_type::string) {
      std::string_view text;
      if (value.get_string().get(text)) return LineError::NotJson;
      switch (field) {
        case Field::Ts:
          has_ts = parse_timestamp(text, out.ts_micros);
          out.ts = text;
          break;
        case Field::Event:
          out.event = audit::event_from(text);
          has_event = true;
          break;
        default:
          if (std::string_view* slot = string_slot(out, field)) *slot = text;
      }
    } else if (type == od::json_type::number) {
      std::uint64_t n = 0;
      if (value.get_uint64().get(n)) continue;  // negative or fractional: not a field we read
      switch (field) {
        case Field::Port:
          out.port = n <= 65535 ? static_cast<std::uint16_t>(n) : 0;
          break;
        case Field::BytesUp:
          out.bytes_up = n;
          break;
        case Field::BytesDown:
          out.bytes_down = n;
          break;
        case Field::Suppressed:
          out.suppressed = n;
          break;
        case Field::ComputerId:
          out.computer_id = n;
          break;
        case Field::DurationMs:
          out.duration_ms =
              n <= static_cast<std::uint64_t>(INT64_MAX) ? static_cast<std::int64_t>(n) : INT64_MAX;
          break;
        default:
          break;
      }
    } else if (type == od::json_type::boolean && field == Field::Enforced) {
      bool b = true;
      if (value.get_bool().get(b)) return LineError::NotJson;
      out.enforced = b;
    }
    // null: the field stays empty.
  }
  // Anything after the object ("{...}{..." from a writer cut short) makes it no record.
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) return LineError::NotJson;
  return has_ts && has_event ? LineError::None : LineError::NotARecord;
}

std::string_view client_address(std::string_view client) {
  if (!client.empty() && client.front() == '[') {
    const auto close = client.find(']');
    return close == std::string_view::npos ? client : client.substr(1, close - 1);
  }
  const auto colon = client.rfind(':');
  if (colon != std::string_view::npos && client.find(':') == colon) return client.substr(0, colon);
  return client;
}

}  // namespace chokepoint::tools
