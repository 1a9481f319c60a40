#include <catch2/catch.hpp>

#include <chokepoint/core/json.hpp>

using namespace chokepoint;

namespace {
std::string json(std::string_view value) {
  std::string out;
  append_json_string(out, value);
  return out;
}
}  // namespace

TEST_CASE("JSON strings escape hostile input", "[core][json]") {
  CHECK(json("plain") == "\"plain\"");
  CHECK(json("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json("line\nbreak\r\t") == R"("line\nbreak\r\t")");
  CHECK(json(std::string_view("nul\0x", 5)) == R"("nul\u0000x")");
  CHECK(json("\x1b[31mred") == R"("\u001b[31mred")");
  CHECK(json("\x7f") == R"("\u007f")");
  // Valid UTF-8 passes through; invalid bytes become U+FFFD.
  CHECK(json("b\xc3\xbc"
             "cher") ==
        "\"b\xc3\xbc"
        "cher\"");
  CHECK(json("\xff\xfe") == R"("\ufffd\ufffd")");
  CHECK(json("\xc0\xaf") == R"("\ufffd\ufffd")");            // overlong '/'
  CHECK(json("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");  // surrogate
  CHECK(json("\xe2\x82") == R"("\ufffd\ufffd")");            // truncated
  CHECK(json("\xf0\x9f\x98\x80") == "\"\xf0\x9f\x98\x80\"");
}

TEST_CASE("JsonObject writes one object", "[core][json]") {
  std::string out;
  JsonObject o(out);
  o.field("s", "x")
      .field("n", 42)
      .field("u", std::uint64_t{7})
      .field("b", true)
      .null_field("z")
      .string_or_null("e", "")
      .raw_field("r", "[1]");
  o.close();
  CHECK(out == R"({"s":"x","n":42,"u":7,"b":true,"z":null,"e":null,"r":[1]})");
}
