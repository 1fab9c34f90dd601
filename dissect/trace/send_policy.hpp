#pragma once
// What synprobe may send, decided in one place that every sender goes through:
// which destinations are refused, how many packets a run may send, and how fast.

#include <cstdint>
#include <optional>
#include <string>

#include "dissect/decode/ip_address.hpp"
#include "dissect/decode/timestamp.hpp"

namespace synprobe {

// Why a destination must never be probed (broadcast, multicast, unspecified), or nullopt:
// "ADDRESS: it is the broadcast address".
[[nodiscard]] std::optional<std::string> refusal_reason(const IpAddress& destination);

struct SendLimits {
  // Hard cap on packets per run: a typo in a port list must not become a flood.
  static constexpr std::uint32_t hard_max_packets = 100'000;
  std::uint32_t max_packets = 10'000;
  double rate_pps = 100;  // default pace; --rate raises it
  std::uint32_t burst = 32;  // one round of a 30-hop trace leaves at once

  // The burst that goes with a rate: 32 packets, or 20 ms worth at high rates, so a fast
  // run is paced by the bucket rather than by how often the prober wakes up.
  [[nodiscard]] static std::uint32_t burst_for(double rate_pps);
};

// A token bucket: `rate` tokens a second, at most `burst` saved up. Time is passed in,
// so the bucket is pure and its tests need no clock.
class TokenBucket {
 public:
  TokenBucket(double rate_pps, std::uint32_t burst);
  // Nanoseconds to wait before a packet may go at `now` (0: at once).
  [[nodiscard]] std::int64_t wait_ns(Timestamp now);
  // Spends one token at `now` (call after waiting).
  void take(Timestamp now);
  // Tokens saved up at `now` (below 1: the next packet must wait; below 0: overspent).
  [[nodiscard]] double available(Timestamp now);

 private:
  void refill(Timestamp now);
  double rate_;
  double burst_;
  double tokens_;
  std::optional<Timestamp> last_;
};

}  // namespace synprobe
