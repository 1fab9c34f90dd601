#include "dissect/infer/host_profile.hpp"

#include <algorithm>

namespace synprobe {

void HostProfile::observe(const IpHeader& ip, Timestamp ts, bool is_syn_ack,
                          std::uint32_t flow_tag) {
  ++packets_;
  const HopEstimate e = estimate_hop(ip.ttl);
  auto* const end = hops_.begin() + static_cast<std::ptrdiff_t>(hop_values_);
  auto* it = std::find_if(hops_.begin(), end, [&](const HopCount& h) {
    return h.initial == e.initial && h.hop == e.hop;
  });
  if (it != end) {
    ++it->packets;
  } else if (hop_values_ < max_hop_values) {
    hops_[hop_values_++] = HopCount{e.initial, e.hop, 1};
  }
  if (ip.has_ip_id) {
    all_ids_.add(ts, ip.ip_id, flow_tag);
    if (is_syn_ack) syn_ack_ids_.add(ts, ip.ip_id, flow_tag);
  }
}

std::optional<HopCount> HostProfile::usual_hop() const {
  if (hop_values_ == 0) return std::nullopt;
  const auto* const end = hops_.begin() + static_cast<std::ptrdiff_t>(hop_values_);
  return *std::max_element(hops_.begin(), end, [](const HopCount& a, const HopCount& b) {
    return a.packets < b.packets;
  });
}

}  // namespace synprobe
