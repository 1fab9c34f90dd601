#pragma once
// One packet of a live run, from the moment it is planned: what it is for, when it may
// leave, when it left and when it was answered. The prober's scheduling loop and its
// trace planner decide everything from these timestamps, so the decisions can be tested
// on values alone. Pure: the packet's bytes are built elsewhere (capture/probe_builder).

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "dissect/decode/ip_address.hpp"
#include "dissect/decode/timestamp.hpp"

namespace synprobe {

// A target: a host and a TCP port.
using TargetKey = std::pair<IpAddress, std::uint16_t>;

// What a probe is for: a target's own SYN, a baseline SYN to a control port, a TTL-limited
// SYN on the target's or the control port's flow, or a baseline ICMP echo request.
enum class ProbeRole { target, control, target_trace, control_trace, echo };

// The router a TTL-limited SYN may meet as a filter refusing what it forwards, and how
// soon its refusal would be back.
struct FilteringRouter {
  std::uint8_t ttl = 0;
  double answer_within_s = 0;
};

// One SYN or echo request, planned before it leaves.
struct PlannedProbe {
  IpAddress source;
  IpAddress destination;
  std::uint16_t port = 0;     // 0: ICMP echo
  ProbeRole role = ProbeRole::target;
  unsigned round = 0;         // rounds of the first phase leave `--interval` apart
  std::uint8_t ttl = 64;
  std::uint32_t isn = 0;
  std::vector<std::uint8_t> bytes;
  Timestamp not_before;       // earliest departure
  std::optional<Timestamp> sent_at;
  std::optional<Timestamp> answered_at;  // the first packet that answers its ISN
  bool skipped = false;       // never sent: its router had already answered enough
  bool reaches_host = false;  // a TTL-limited SYN with a TTL at least the host's distance
  // A re-probe just past the last hop that answered its flow: the router there, whose
  // refusal would come from its ICMP budget (trace_plan's filtering_router_ttl()).
  std::optional<FilteringRouter> filtering_router;
  // Sent past its router's modelled ICMP budget to measure it (RouterBudgets), and given up
  // unanswered: it measured the budget, not the path (`measured_budget`), so it is left out
  // of the hop table, and sent again under the model (`resent`, which never measures) if
  // its flow still lacks that TTL.
  bool measured_budget = false;
  bool resent = false;
  // A re-probe's witness on the control port's flow: it measures its router's budget at
  // that moment, so it always goes.
  bool witness = false;
};

[[nodiscard]] inline bool is_ttl_limited(const PlannedProbe& p) {
  return p.role == ProbeRole::target_trace || p.role == ProbeRole::control_trace;
}

}  // namespace synprobe
