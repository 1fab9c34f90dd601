#pragma once
// What the capture shows of one remote address when it speaks for itself:
// its TTL/hop, IP-ID behaviour and SYN/ACK round-trip times. It is the
// baseline a reset or an ICMP error claiming that address is judged against.
// RSTs never feed it: a middlebox forges them in the host's name.

#include <array>
#include <cstdint>
#include <optional>

#include "dissect/decode/packet.hpp"
#include "dissect/decode/ttl.hpp"
#include "dissect/infer/ip_id.hpp"

namespace synprobe {

struct HopCount {
  std::uint8_t initial = 0;
  int hop = 0;
  std::uint32_t packets = 0;
};

class HostProfile {
 public:
  static constexpr std::size_t max_hop_values = 4;

  // Records a packet this host sent (not a RST). `flow_tag` separates its connections.
  void observe(const IpHeader& ip, Timestamp ts, bool is_syn_ack, std::uint32_t flow_tag);

  [[nodiscard]] std::uint64_t packets() const { return packets_; }
  // The hop most of its packets arrive from, if any were seen.
  [[nodiscard]] std::optional<HopCount> usual_hop() const;
  // More than one hop value seen (path change, load balancing, or a forger).
  [[nodiscard]] bool hop_varies() const { return hop_values_ > 1; }
  [[nodiscard]] const IpIdSampler& ip_ids() const { return all_ids_; }
  [[nodiscard]] const IpIdSampler& syn_ack_ip_ids() const { return syn_ack_ids_; }

 private:
  std::array<HopCount, max_hop_values> hops_{};
  std::size_t hop_values_ = 0;
  std::uint64_t packets_ = 0;
  IpIdSampler all_ids_;
  IpIdSampler syn_ack_ids_;
};

}  // namespace synprobe
