// A minimal JSON writer for one-line records.
//
// Written on purpose instead of using nlohmann::json: audit records are
// built on the data path for every connection, and this appends straight
// into one reused string without building a tree. Strings come from the
// network (SNI, Host, paths) and may hold anything: control characters are
// escaped and invalid UTF-8 becomes U+FFFD, so every line is valid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chokepoint {

// Appends `value` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view value);

// Field names must be plain ASCII without quotes or backslashes (they are
// this program's literals); values may be anything.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
  JsonObject& field(std::string_view key, std::string_view value);
  JsonObject& field(std::string_view key, const char* value) {
    return field(key, std::string_view(value));
  }
  JsonObject& field(std::string_view key, std::int64_t value);
  JsonObject& field(std::string_view key, std::uint64_t value);
  JsonObject& field(std::string_view key, int value) { return field(key, std::int64_t{value}); }
  JsonObject& field(std::string_view key, unsigned value) {
    return field(key, std::uint64_t{value});
  }
  JsonObject& field(std::string_view key, bool value);
  JsonObject& null_field(std::string_view key);
  // Writes `value` as a string, or null when it is empty.
  JsonObject& string_or_null(std::string_view key, std::string_view value);
  // Appends `raw` unchanged: for values already encoded as JSON.
  JsonObject& raw_field(std::string_view key, std::string_view raw);
  void close() { out_ += '}'; }

 private:
  void key(std::string_view key);
  std::string& out_;
  bool first_ = true;
};

}  // namespace chokepoint
