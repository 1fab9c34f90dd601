#pragma once
// One-line notes on the role of each packet of a live run, written as pcapng packet
// comments so that whoever opens the evidence in Wireshark sees the reasoning beside it.

#include <cstdint>
#include <string>
#include <vector>

#include "dissect/decode/packet.hpp"
#include "dissect/verdict/analyzer.hpp"

namespace synprobe {

// `results` are the per-target results of the run; `source_port` is the probes' port.
[[nodiscard]] std::string packet_note(const DecodedPacket& p, const std::vector<AttemptResult>& results,
                                      std::uint16_t source_port);

}  // namespace synprobe
