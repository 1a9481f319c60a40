// Private to the matcher: an immutable open-addressing map from byte strings
// to 32-bit values. Built once per policy; lookups hash the key once, probe a
// contiguous array, and never allocate or lock.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace chokepoint::policy::detail {

class FlatIndex {
 public:
  // `keys` must be unique; values[i] belongs to keys[i].
  void build(const std::vector<std::string>& keys, const std::vector<std::uint32_t>& values) {
    std::size_t capacity = 8;
    while (capacity < keys.size() * 2)
      capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    arena_.clear();
    for (const auto& key : keys)
      arena_ += key;
    std::uint32_t offset = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto hash = hash_of(keys[i]);
      std::size_t at = hash & mask_;
      while (slots_[at].length != kEmpty)
        at = (at + 1) & mask_;
      slots_[at] = Slot{hash, offset, static_cast<std::uint32_t>(keys[i].size()), values[i]};
      offset += static_cast<std::uint32_t>(keys[i].size());
    }
  }

  // The value stored for `key`, or nullptr.
  const std::uint32_t* find(std::string_view key) const {
    if (slots_.empty()) return nullptr;
    const auto hash = hash_of(key);
    for (std::size_t at = hash & mask_;; at = (at + 1) & mask_) {
      const Slot& slot = slots_[at];
      if (slot.length == kEmpty) return nullptr;
      if (slot.hash == hash && slot.length == key.size() &&
          std::string_view(arena_).substr(slot.offset, slot.length) == key) {
        return &slot.value;
      }
    }
  }

  bool empty() const { return slots_.empty(); }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot) + arena_.capacity(); }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffff;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = kEmpty;
    std::uint32_t value = 0;
  };
  static std::uint64_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }

  std::vector<Slot> slots_;
  std::string arena_;
  std::size_t mask_ = 0;
};

}  // namespace chokepoint::policy::detail
