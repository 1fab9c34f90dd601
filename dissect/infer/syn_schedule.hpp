#pragma once
// What a client's SYN retransmissions say. A stack retransmits its SYN only while nothing
// acceptable has come back (a SYN/ACK or RST ends SYN-SENT; on Linux an ICMP error does
// too), on a schedule set by its initial retransmission timeout. The schedule tells the
// stack, and the stack tells how much the silence means.

#include <optional>
#include <string>
#include <string_view>

#include "dissect/infer/attempt.hpp"

namespace synprobe {

struct SynSchedule {
  std::string gaps;      // "1.0, 1.0, 1.0, 2.0 s"
  // "doubling from 1 s (RFC 6298: Linux, BSD, macOS)", or "" when none fits (never a null
  // view: formatting one passes a null pointer to memcpy, which UBSan reports)
  std::string_view fits = "";
};

// The gaps between the attempt's SYN transmissions and the schedule they fit; nullopt for
// a SYN sent once.
[[nodiscard]] std::optional<SynSchedule> syn_schedule(const Attempt& a);

// The client stack its SYN's shape names ("Linux", "Windows", "macOS"), or "" when the
// initial TTL and the order of the options fit none of them.
[[nodiscard]] std::string_view client_stack(const Attempt& a);

}  // namespace synprobe
