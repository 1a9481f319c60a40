// A non-owning cursor over untrusted bytes (BoringSSL's CBS, in spirit).
// Every getter checks the length first and reports failure instead of
// reading past the end; a failed read consumes nothing. Parsers of network
// bytes touch bytes only through this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace chokepoint {

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  std::size_t remaining() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::span<const std::uint8_t> rest() const { return bytes_; }
  std::string_view rest_as_text() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

  bool get_u8(std::uint8_t& out) { return get_uint(1, out); }
  bool get_u16(std::uint16_t& out) { return get_uint(2, out); }
  bool get_u24(std::uint32_t& out) { return get_uint(3, out); }
  bool get_u32(std::uint32_t& out) { return get_uint(4, out); }
  bool skip(std::size_t n) {
    if (n > bytes_.size()) return false;
    bytes_ = bytes_.subspan(n);
    return true;
  }
  // The next `n` bytes as their own reader.
  bool get_bytes(std::size_t n, ByteReader& out) {
    if (n > bytes_.size()) return false;
    out = ByteReader(bytes_.first(n));
    bytes_ = bytes_.subspan(n);
    return true;
  }
  // A length-prefixed block (u8 or u16 length) as its own reader.
  bool get_prefixed_u8(ByteReader& out) {
    std::uint8_t n;
    return peek_length(1, n) && skip_checked(1, n, out);
  }
  bool get_prefixed_u16(ByteReader& out) {
    std::uint16_t n;
    return peek_length(2, n) && skip_checked(2, n, out);
  }

 private:
  template <class T>
  bool get_uint(std::size_t width, T& out) {
    if (!peek_length(width, out)) return false;
    bytes_ = bytes_.subspan(width);
    return true;
  }
  template <class T>
  bool peek_length(std::size_t width, T& out) const {
    if (bytes_.size() < width) return false;
    T value = 0;
    for (std::size_t i = 0; i < width; ++i)
      value = static_cast<T>((value << 8) | bytes_[i]);
    out = value;
    return true;
  }
  bool skip_checked(std::size_t width, std::size_t n, ByteReader& out) {
    if (bytes_.size() < width + n) return false;
    out = ByteReader(bytes_.subspan(width, n));
    bytes_ = bytes_.subspan(width + n);
    return true;
  }

  std::span<const std::uint8_t> bytes_;
};

}  // namespace chokepoint
