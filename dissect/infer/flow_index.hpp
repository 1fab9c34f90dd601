#pragma once
// A hash index from a flow to a 32-bit value (an attempt's index, a ring slot), for the
// look-ups every packet of a busy capture makes.
//
// std::unordered_map gave each entry a node of its own: at 10^6 attempts per GiB, with
// 10^5 attempts held, finding a flow walked scattered nodes, and that walk (plus the
// nodes' malloc and free) was 40% of `analyze`. Here the slots are one flat array of
// 8 bytes each (open addressing, linear probing, at most half full), holding 32 bits of
// the key's hash and the value; the key itself is not stored: the caller's `matches`
// compares it with what the value points to, which it reads only when the 32 bits agree.
// Deletion shifts the following entries back (no tombstones), so a probe always ends at
// the first empty slot.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace synprobe {

class FlowIndex {
 public:
  static constexpr std::uint32_t none = UINT32_MAX;

  // The value whose entry has this hash and `matches(value)`, or none.
  template <typename Matches>
  [[nodiscard]] std::uint32_t find(std::uint64_t hash, Matches&& matches) const {
    const std::uint32_t h = fold(hash);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == none) return none;
      if (s.hash == h && matches(s.value)) return s.value;
    }
  }

  // Sets the entry that `matches` to `value`, or adds one.
  template <typename Matches>
  void assign(std::uint64_t hash, std::uint32_t value, Matches&& matches) {
    const std::uint32_t h = fold(hash);
    std::size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == none) break;
      if (s.hash == h && matches(s.value)) {
        s.value = value;
        return;
      }
    }
    slots_[i] = Slot{h, value};
    if (++size_ * 2 > slots_.size()) grow();
  }

  // Removes the entry that has this hash and `matches`; false when there is none.
  template <typename Matches>
  bool erase(std::uint64_t hash, Matches&& matches) {
    const std::uint32_t h = fold(hash);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == none) return false;
      if (s.hash == h && matches(s.value)) {
        remove_at(i);
        return true;
      }
    }
  }

  // A hint, harmless when wrong: the slot a look-up of `hash` starts at.
  void prefetch(std::uint64_t hash) const { __builtin_prefetch(&slots_[fold(hash) & mask_]); }

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

 private:
  struct Slot {
    std::uint32_t hash = 0;
    std::uint32_t value = none;
  };
  static std::uint32_t fold(std::uint64_t hash) { return static_cast<std::uint32_t>(hash ^ (hash >> 32)); }

  void remove_at(std::size_t hole);
  void grow();

  std::vector<Slot> slots_ = std::vector<Slot>(1024);
  std::size_t mask_ = 1023;
  std::size_t size_ = 0;
};

}  // namespace synprobe
