#pragma once
// The hop table of a trace: plain values that the verdict engine fills and the
// renderers show (JSON "hops").

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "dissect/decode/ip_address.hpp"
#include "dissect/infer/quote_diff.hpp"

namespace synprobe {

struct IcmpSummary {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::string name;
};

// What one TTL drew, per probe sent with it.
// `data`: the server's own answer to a request sent with this TTL (probe --sni/--http-host).
enum class HopAnswer : std::uint8_t { none, time_exceeded, reset, syn_ack, unreachable, other_icmp, data };
inline constexpr int hop_answer_count = 7;
[[nodiscard]] std::string_view hop_answer_name(HopAnswer a);

struct TraceHop {
  int hop = 0;                          // = the TTL of the probes
  std::optional<IpAddress> address;     // who answered (most often)
  std::vector<IpAddress> addresses;     // every router that answered this TTL (load balancing), sorted
  std::optional<double> rtt_ms;         // median round-trip time of those answers
  std::vector<HopAnswer> answers;       // one per probe sent with this TTL
  HopAnswer majority = HopAnswer::none;
  bool reset_too = false;               // a RST came back for a probe of this TTL as well
  std::optional<IcmpSummary> icmp;      // the unreachable, when that is the majority
  std::vector<PathChange> changes;      // what the quotes show the path changed before this hop
};

struct Trace {
  std::vector<TraceHop> hops;           // TTL 1..max, in order
  int probes_per_hop = 0;
};

}  // namespace synprobe
