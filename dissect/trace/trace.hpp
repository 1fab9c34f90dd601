#pragma once
// Hop-aware localisation from TTL-limited SYNs (Paris-traceroute style: one flow per
// target, probes told apart by sequence number and IP-ID).
//
// build_trace() turns the judged TTL-limited probes of one target into a hop table;
// locate() combines that table with the target's verdict to name the hop and address
// of the device that refused, even when its RST pretends to come from the host.

#include <optional>
#include <string>
#include <vector>

#include "dissect/verdict/analyzer.hpp"

namespace synprobe {

// `probes` are the results of the TTL-limited SYNs of one target (each attempt's first
// transmission carries its TTL). Hops with no probe are left out.
[[nodiscard]] Trace build_trace(const std::vector<AttemptResult>& probes);

// What else locate() may use: the host's own distance (baseline), the RTT of the answer
// that decided the verdict, and the trace of a control port on the same path.
struct LocateContext {
  std::optional<int> host_hop;
  std::optional<double> host_rtt_ms;
  const Trace* control = nullptr;
};

// Refines `j` with what the trace shows; adds evidence, sets hop, responder, hop range.
void locate(Judgement& j, const Attempt& attempt, const Trace& trace, const LocateContext& ctx);

}  // namespace synprobe
