#include <array>
#include <charconv>
#include <cstring>

#include <chokepoint/core/json.hpp>
#include <chokepoint/core/utf8.hpp>

namespace chokepoint {
namespace {

// The bytes a JSON string may hold as they are: printable ASCII but the
// quote and the backslash.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x7f; ++c)
    plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

}  // namespace

void append_json_string(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < value.size()) {
    // Most values need no escaping: copy the plain run in one go.
    std::size_t plain = i;
    while (plain < value.size() && kPlain[static_cast<unsigned char>(value[plain])])
      ++plain;
    out.append(value.data() + i, plain - i);
    i = plain;
    if (i == value.size()) break;
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      const auto length = utf8_sequence_length(value.substr(i));
      if (length == 0) {
        out += "\\ufffd";  // as every UTF-8 sink replaces it (utf8.hpp)
        ++i;
      } else {
        out.append(value.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void JsonObject::key(std::string_view name) {
  // Keys are this program's own literals (plain ASCII, nothing to escape):
  // written as they are, with their punctuation, in one growth of the line
  // (a record has some thirty of them).
  const std::size_t comma = first_ ? 0 : 1;
  first_ = false;
  const std::size_t at = out_.size();
  out_.resize(at + comma + name.size() + 3);
  char* p = out_.data() + at;
  if (comma) *p++ = ',';
  *p++ = '"';
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = '"';
  *p = ':';
}

JsonObject& JsonObject::field(std::string_view name, std::string_view value) {
  key(name);
  append_json_string(out_, value);
  return *this;
}

JsonObject& JsonObject::field(std::string_view name, std::int64_t value) {
  key(name);
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out_.append(buffer, end);
  return *this;
}

JsonObject& JsonObject::field(std::string_view name, std::uint64_t value) {
  key(name);
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out_.append(buffer, end);
  return *this;
}

JsonObject& JsonObject::field(std::string_view name, bool value) {
  key(name);
  out_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::null_field(std::string_view name) {
  key(name);
  out_ += "null";
  return *this;
}

JsonObject& JsonObject::string_or_null(std::string_view name, std::string_view value) {
  return value.empty() ? null_field(name) : field(name, value);
}

JsonObject& JsonObject::raw_field(std::string_view name, std::string_view raw) {
  key(name);
  out_ += raw;
  return *this;
}

}  // namespace chokepoint
