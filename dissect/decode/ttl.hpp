#pragma once
// TTL / hop-limit inference: which initial value a sender used and how many
// routers the packet crossed before the capture point.

#include <cstdint>

namespace synprobe {

struct HopEstimate {
  std::uint8_t observed = 0;
  std::uint8_t initial = 0;  // 32, 64, 128 or 255
  int hop = 0;               // initial − observed + 1: the first router's packets are hop 1

  friend bool operator==(const HopEstimate&, const HopEstimate&) = default;
};

// The smallest common initial value (32, 64, 128, 255) that is ≥ the observed one.
[[nodiscard]] constexpr std::uint8_t infer_initial_ttl(std::uint8_t observed) {
  if (observed <= 32) return 32;
  if (observed <= 64) return 64;
  if (observed <= 128) return 128;
  return 255;
}

[[nodiscard]] constexpr HopEstimate estimate_hop(std::uint8_t observed) {
  const std::uint8_t initial = infer_initial_ttl(observed);
  return HopEstimate{observed, initial, initial - observed + 1};
}

}  // namespace synprobe
