#pragma once
// IP-ID behaviour of one sender, learnt from a bounded sample of its packets.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "dissect/decode/timestamp.hpp"

namespace synprobe {

enum class IpIdBehaviour : std::uint8_t {
  unknown,           // too few samples
  zero,              // always 0 (Linux for DF packets outside a connected socket)
  constant,          // the same non-zero value every time
  global_counter,    // one counter for every packet the host sends
  per_flow_counter,  // a counter per connection (Linux connected sockets, hashed buckets)
  random,
};
[[nodiscard]] std::string_view ip_id_behaviour_name(IpIdBehaviour b);

// Keeps the newest samples in a fixed ring: constant memory per host.
class IpIdSampler {
 public:
  static constexpr std::size_t capacity = 16;
  // The largest step between two samples that still reads as "the next value of a counter".
  static constexpr std::uint16_t max_counter_step = 2048;

  void add(Timestamp ts, std::uint16_t ip_id, std::uint32_t flow_tag);
  [[nodiscard]] std::size_t size() const { return count_ < capacity ? count_ : capacity; }
  [[nodiscard]] IpIdBehaviour classify() const;
  // The newest sample taken before `ts`, if any: where a counter stood at that time.
  [[nodiscard]] std::optional<std::uint16_t> latest_before(Timestamp ts) const;
  [[nodiscard]] bool all_zero() const;

 private:
  struct Sample {
    Timestamp ts;
    std::uint16_t id = 0;
    std::uint32_t flow = 0;
  };
  // Samples oldest first.
  template <typename F>
  void for_each(F&& f) const;
  [[nodiscard]] bool increments(bool within_flow) const;

  // The count first: add() reads it and writes one sample, so it shares the first sample's
  // cache line (the host table prefetches a record's first lines).
  std::size_t count_ = 0;  // total ever added
  std::array<Sample, capacity> ring_{};
};

// Whether `candidate` could be the next value of a counter that stood at `previous`.
[[nodiscard]] bool follows_counter(std::uint16_t previous, std::uint16_t candidate);

}  // namespace synprobe
