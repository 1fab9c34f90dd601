#include "dissect/infer/flow_index.hpp"

#include <utility>

namespace synprobe {

// Backward-shift deletion: each entry after the hole that could have sat in it (its home
// slot is at or before the hole, cyclically) moves into it, and leaves a new hole behind.
void FlowIndex::remove_at(std::size_t hole) {
  for (std::size_t k = (hole + 1) & mask_;; k = (k + 1) & mask_) {
    Slot& s = slots_[k];
    if (s.value == none) break;
    const std::size_t home = s.hash & mask_;
    if (((k - home) & mask_) >= ((k - hole) & mask_)) {
      slots_[hole] = s;
      hole = k;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

void FlowIndex::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.value == none) continue;
    std::size_t i = s.hash & mask_;
    while (slots_[i].value != none) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

}  // namespace synprobe
