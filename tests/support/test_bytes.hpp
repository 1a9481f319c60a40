// Byte strings for parser tests: written as hex, or read from a captured file.
#pragma once

#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chokepoint::test {

// "05 01 00" -> the three bytes; spaces are ignored.
inline std::string hex(std::string_view text) {
  std::string out;
  int high = -1;
  for (const char c : text) {
    if (c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) throw std::invalid_argument("bad hex");
    const int nibble = std::isdigit(static_cast<unsigned char>(c))
                           ? c - '0'
                           : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    if (high < 0) {
      high = nibble;
    } else {
      out += static_cast<char>((high << 4) | nibble);
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("odd hex");
  return out;
}

inline std::string text_of(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A file under the source tree, e.g. "tests/unit/socks/vectors/curl_socks4.bin".
inline std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(CHOKEPOINT_SOURCE_DIR) + "/" + relative, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + relative);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace chokepoint::test
