// Splitting one fuzzer input into parameters and pieces, without clang's
// FuzzedDataProvider, so GCC builds can replay the corpus too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace chokepoint::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : bytes_(data, size) {}

  // One byte of the input as a parameter (0 once the input is used up).
  std::uint8_t byte() {
    if (bytes_.empty()) return 0;
    const std::uint8_t b = bytes_[0];
    bytes_ = bytes_.subspan(1);
    return b;
  }
  std::span<const std::uint8_t> rest() const { return bytes_; }

  // `stream` cut into pieces whose sizes follow `seed`: the same input
  // always gives the same segmentation, and different seeds different ones.
  static std::vector<std::span<const std::uint8_t>> pieces(std::span<const std::uint8_t> stream,
                                                           std::uint32_t seed) {
    std::vector<std::span<const std::uint8_t>> out;
    std::uint32_t state = seed | 1;
    while (!stream.empty()) {
      state = state * 1664525u + 1013904223u;
      const std::size_t n = 1 + (state >> 16) % (seed % 7 == 0 ? stream.size() : 64);
      const std::size_t take = n < stream.size() ? n : stream.size();
      out.push_back(stream.first(take));
      stream = stream.subspan(take);
    }
    return out;
  }

 private:
  std::span<const std::uint8_t> bytes_;
};

inline std::string_view text(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace chokepoint::fuzz
