#include <ctime>
#include <type_traits>

#include <chokepoint/audit/record.hpp>
#include <chokepoint/core/json.hpp>

namespace chokepoint::audit {

std::string_view to_string(Event event) {
  switch (event) {
#define CHOKEPOINT_EVENT_TEXT(name, text) \
  case Event::name:                       \
    return text;
    CHOKEPOINT_AUDIT_EVENTS(CHOKEPOINT_EVENT_TEXT)
#undef CHOKEPOINT_EVENT_TEXT
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

namespace {

// A text field (a string, or a coded field's name: "" for None) as its
// Presence says.
template <Presence P>
void put_text(JsonObject& json, std::string_view key, std::string_view value) {
  if (!value.empty() || P == Presence::Always) {
    json.field(key, value);
  } else if (P == Presence::OrNull) {
    json.null_field(key);
  }
}

// One field of the line, as its row of record_fields.hpp says.
template <Presence P, class T>
void put(JsonObject& json, std::string_view key, const T& value) {
  if constexpr (std::is_same_v<T, Time>) {
    static_assert(P == Presence::Always);
    json.field(key, format_timestamp(value));
  } else if constexpr (std::is_enum_v<T>) {
    put_text<P>(json, key, to_string(value));
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    put_text<P>(json, key, value);
  } else if constexpr (std::is_same_v<T, bool>) {
    static_assert(P == Presence::Always);
    json.field(key, value);
  } else {
    static_assert(std::is_integral_v<T>);
    bool set = value != 0;
    if constexpr (P == Presence::IfMeasured) {
      static_assert(std::is_signed_v<T>);
      set = value >= 0;
    }
    if (set || P == Presence::Always) {
      if constexpr (std::is_signed_v<T>) {
        json.field(key, std::int64_t{value});
      } else {
        json.field(key, std::uint64_t{value});
      }
    } else if (P == Presence::OrNull) {
      json.null_field(key);
    }
  }
}

}  // namespace

void append_json_line(std::string& out, const Record& r) {
  JsonObject json(out);
#define CHOKEPOINT_RECORD_PUT(Type, name, presence, initial) \
  put<Presence::presence>(json, key::name, r.name);
  CHOKEPOINT_RECORD_FIELDS(CHOKEPOINT_RECORD_PUT)
#undef CHOKEPOINT_RECORD_PUT
  json.close();
  out += '\n';
}

}  // namespace chokepoint::audit
